"""`krc nutrition` sub-commands of nutrition.register."""

from __future__ import annotations

import typer

app = typer.Typer(help="First 1,000 days register: women, children, growth visits, referrals.",
                  no_args_is_help=True)
