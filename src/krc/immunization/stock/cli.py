"""`krc stock` sub-commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Vaccine stock: ledger, SMS reports, alerts.", no_args_is_help=True)
