"""dose keeps the health facility of the child's residence (residence facts without a join)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add vaccination.residence_id, fill it from the child, then make it required."""
    with op.batch_alter_table("vaccination", schema=None) as batch_op:
        batch_op.add_column(sa.Column("residence_id", sa.Integer(), nullable=True))
    op.execute("""
        UPDATE vaccination SET residence_id = (
            SELECT child.facility_id FROM child
            WHERE child.pk = vaccination.child_pk)""")
    with op.batch_alter_table("vaccination", schema=None) as batch_op:
        batch_op.alter_column("residence_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_vaccination_residence_id_org_unit"),
                                    "org_unit", ["residence_id"], ["id"])


def downgrade() -> None:
    """Drop vaccination.residence_id."""
    with op.batch_alter_table("vaccination", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_vaccination_residence_id_org_unit"),
                                 type_="foreignkey")
        batch_op.drop_column("residence_id")
