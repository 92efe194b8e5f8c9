"""`krc outreach` sub-commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Outreach sessions and micro-plans.", no_args_is_help=True)
