"""fact tables lose their foreign keys (derived data; the FK checks dominated rebuilds)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop the org_unit foreign keys of dose_fact and delay_fact."""
    with op.batch_alter_table("dose_fact", schema=None) as batch_op:
        batch_op.drop_constraint("fk_dose_fact_org_unit_id_org_unit", type_="foreignkey")
    with op.batch_alter_table("delay_fact", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delay_fact_org_unit_id_org_unit", type_="foreignkey")


def downgrade() -> None:
    """Restore the foreign keys."""
    with op.batch_alter_table("delay_fact", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_delay_fact_org_unit_id_org_unit", "org_unit",
                                    ["org_unit_id"], ["id"])
    with op.batch_alter_table("dose_fact", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_dose_fact_org_unit_id_org_unit", "org_unit",
                                    ["org_unit_id"], ["id"])
