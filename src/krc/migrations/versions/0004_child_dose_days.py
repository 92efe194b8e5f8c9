"""child keeps its valid dose days (defaulter lists without the dose table); name indexes
by facility (scoped search)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 20_000


def _backfill() -> None:
    """Fill child.dose_days from the valid live doses, a batch of children at a time."""
    import numpy as np

    from krc.immunization import dose_days
    from krc.immunization.schedule import batch_slots, to_epoch_day

    bind = op.get_bind()
    slots = batch_slots()
    col = {s: i for i, s in enumerate(slots)}
    top = bind.execute(sa.text("SELECT COALESCE(MAX(pk), 0) FROM child")).scalar_one()
    for lo in range(1, top + 1, BATCH):
        hi = lo + BATCH - 1
        days = np.full((BATCH, len(slots)), -1, dtype=np.int64)
        rows = bind.execute(sa.text(
            "SELECT child_pk, vaccine, dose, given_on FROM vaccination WHERE valid = :t "
            "AND deleted = :f AND child_pk BETWEEN :lo AND :hi"),
            {"t": True, "f": False, "lo": lo, "hi": hi})
        for child_pk, vaccine, dose, given_on in rows:
            if (vaccine, dose) in col:
                day = date.fromisoformat(given_on) if isinstance(given_on, str) else given_on
                days[child_pk - lo, col[(vaccine, dose)]] = to_epoch_day(day)
        texts = dose_days.encode(days)
        bind.execute(sa.text("UPDATE child SET dose_days = :d WHERE pk = :pk"),
                     [{"d": texts[pk - lo], "pk": pk} for pk in range(lo, hi + 1)
                      if pk <= top])


def upgrade() -> None:
    """Add child.dose_days (backfilled) and the (name key, facility) indexes."""
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dose_days", sa.String(length=120), nullable=True))
        batch_op.drop_index("ix_child_given_key")
        batch_op.create_index("ix_child_family_facility", ["family_key", "facility_id"],
                              unique=False)
        batch_op.create_index("ix_child_given_facility", ["given_key", "facility_id"],
                              unique=False)
    _backfill()


def downgrade() -> None:
    """Drop child.dose_days and the (name key, facility) indexes."""
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_index("ix_child_given_facility")
        batch_op.drop_index("ix_child_family_facility")
        batch_op.create_index("ix_child_given_key", ["given_key"], unique=False)
        batch_op.drop_column("dose_days")
