"""`krc growth zscores`: WHO anthro's anthro_zscores on CSV files.

Output = the input columns, then anthro's 21 columns, rendered as R's
`write.csv(cbind(d, anthro_zscores(...)), row.names = FALSE)` with
`d <- read.csv(INPUT, na.strings = c("NA", ""))` (see csvio.py): the file can be compared
with `diff` to one made by R. Reference: reference/nutrition.md §1.
"""

from __future__ import annotations

from pathlib import Path

import typer

from krc.clikit import clear_errors, console
from krc.nutrition import csvio
from krc.nutrition.growth import (
    COLUMNS,
    INPUT_COLUMNS,
    INTEGER_COLUMNS,
    GrowthInputError,
)
from krc.nutrition.growth import anthro_zscores as compute

NUMERIC_INPUTS = ("age", "weight", "lenhei", "headc", "armc", "triskin", "subskin")


def zscores_table(table: csvio.CsvTable, mapping: dict[str, str], age_in_months: bool,
                  na: str = "NA") -> tuple[list[str], list[list[str]]]:
    """Return (header, rendered columns) of the output for a CSV table (pure but for the
    table read): input columns then anthro_zscores' columns (reference/nutrition.md §1)."""
    cols = csvio.resolve_columns(table, INPUT_COLUMNS, mapping, required=("sex",))
    args: dict[str, object] = {}
    for name in NUMERIC_INPUTS:
        col = cols[name]
        args[name] = table.numeric(col) if col else None
    for name in ("sex", "oedema"):
        col = cols[name]
        if col:
            args[name] = table.numeric(col) if table.is_numeric(col) else table.text(col)
    args["measure"] = table.text(cols["measure"]) if cols["measure"] else None
    if len(table) == 0:
        return [*table.header, *COLUMNS], [[] for _ in [*table.header, *COLUMNS]]
    try:
        result = compute(is_age_in_month=age_in_months, rounded=True,
                         **args)  # type: ignore[arg-type]
    except GrowthInputError as exc:
        column = cols.get(exc.column) or exc.column
        value = table.column(column)[exc.index] if column in table.header else str(exc.value)
        raise csvio.cell_error(table, exc.index, column, value, exc.code, exc.fr,
                               exc.en) from None
    dec = table.decimal
    rendered = [csvio.render_passthrough([row[j] for row in table.rows], dec, na)
                for j in range(len(table.header))]
    for c in COLUMNS:
        if c == "cmeasure":
            rendered.append(csvio.render_text(result[c].tolist(), na))
        elif c in INTEGER_COLUMNS:
            rendered.append(csvio.render_integers(result[c], na))
        else:
            rendered.append(csvio.render_numbers(result[c], dec, na))
    return [*table.header, *COLUMNS], rendered


@clear_errors
def zscores(input_csv: Path = typer.Argument(..., help="input CSV (anthro_zscores columns)"),
            output: Path = typer.Option(..., "-o", "--output", help="output CSV"),
            age_in_months: bool = typer.Option(False, "--age-in-months",
                                               help="the age column is in months"),
            mapping: list[str] = typer.Option(
                [], "--map", help="column mapping OURNAME=COLUMN, e.g. --map age=age_days "
                                  "(repeat for each renamed column)"),
            na: str = typer.Option("NA", "--na", help="text written for missing values "
                                                      "(R writes NA)")) -> None:
    """Compute WHO growth z-scores and flags for every row of a CSV file (as WHO anthro)."""
    table = csvio.read_csv(input_csv)
    mapped = csvio.parse_mapping(mapping, INPUT_COLUMNS)
    header, columns = zscores_table(table, mapped, age_in_months, na)
    csvio.write_csv(output, header, columns, table.delimiter)
    console.print(f"{len(table)} lignes → {output}")
