"""growth visit void (soft delete of a visit entered in error)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LIVE = "voided_at IS NULL"


def upgrade() -> None:
    """Add voided_at, voided_by and void_reason to growth_visit; one live visit a day (a
    voided visit no longer holds its day, so the corrected visit can be entered); referral
    outcomes up to 20 characters ("entered_in_error")."""
    with op.batch_alter_table("growth_visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(op.f("fk_growth_visit_voided_by_app_user"), "app_user",
                                    ["voided_by"], ["id"])
        batch_op.drop_constraint("uq_growth_visit_child_day", type_="unique")
        batch_op.create_index("uq_growth_visit_child_day_live", ["child_pk", "visit_on"],
                              unique=True, sqlite_where=sa.text(LIVE),
                              postgresql_where=sa.text(LIVE))
    # "entered_in_error" (16 characters), the outcome of a referral whose visit is voided.
    with op.batch_alter_table("nutrition_referral", schema=None) as batch_op:
        batch_op.alter_column("outcome", existing_type=sa.String(length=14),
                              type_=sa.String(length=20), existing_nullable=True)


def downgrade() -> None:
    """Drop the void columns (voided visits become live again) and restore one visit a day;
    a voided visit's day taken again by its correction must be resolved by hand first."""
    with op.batch_alter_table("nutrition_referral", schema=None) as batch_op:
        batch_op.alter_column("outcome", existing_type=sa.String(length=20),
                              type_=sa.String(length=14), existing_nullable=True)
    with op.batch_alter_table("growth_visit", schema=None) as batch_op:
        batch_op.drop_index("uq_growth_visit_child_day_live")
        batch_op.create_unique_constraint("uq_growth_visit_child_day", ["child_pk", "visit_on"])
        batch_op.drop_constraint(op.f("fk_growth_visit_voided_by_app_user"), type_="foreignkey")
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_by")
        batch_op.drop_column("voided_at")
