"""`krc messaging` sub-commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Messaging: contacts, reminders, outbox.", no_args_is_help=True)
