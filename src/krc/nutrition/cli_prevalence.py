"""`krc growth prevalence`: WHO anthro's anthro_prevalence on CSV files (survey design)."""

from __future__ import annotations

from pathlib import Path

import typer


def prevalence(input_csv: Path = typer.Argument(..., help="input CSV (anthro_zscores columns)"),
               output: Path = typer.Option(..., "-o", "--output", help="output CSV")) -> None:
    """Compute prevalence estimates with survey-design intervals (as WHO anthro)."""
    raise typer.Exit(2)
