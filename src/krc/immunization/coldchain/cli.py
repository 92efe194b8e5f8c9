"""`krc coldchain` sub-commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Cold chain: equipment, temperature readings, alarms.", no_args_is_help=True)
