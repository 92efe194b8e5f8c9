"""`krc nutrition` sub-commands of nutrition.community."""

from __future__ import annotations

import typer

app = typer.Typer(help="IYCF recalls, support groups (GASPA), micronutrient powders.",
                  no_args_is_help=True)
