"""`krc growth zscores`: WHO anthro's anthro_zscores on CSV files (filled in by the engine)."""

from __future__ import annotations

from pathlib import Path

import typer


def zscores(input_csv: Path = typer.Argument(..., help="input CSV (anthro_zscores columns)"),
            output: Path = typer.Option(..., "-o", "--output", help="output CSV"),
            age_in_months: bool = typer.Option(False, "--age-in-months",
                                               help="the age column is in months")) -> None:
    """Compute WHO growth z-scores and flags for every row of a CSV file (as WHO anthro)."""
    raise typer.Exit(2)
