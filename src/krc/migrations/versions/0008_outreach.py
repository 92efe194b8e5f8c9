"""outreach tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the outreach tables and the index of doses by session."""
    op.create_table(
        "outreach_session",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("strategy", sa.String(length=10), nullable=False),
        sa.Column("place_type", sa.String(length=20), nullable=True),
        sa.Column("place_name", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"],
                                name=op.f("fk_outreach_session_created_by_app_user")),
        sa.ForeignKeyConstraint(["updated_by"], ["app_user.id"],
                                name=op.f("fk_outreach_session_updated_by_app_user")),
        sa.ForeignKeyConstraint(["district_id"], ["org_unit.id"],
                                name=op.f("fk_outreach_session_district_id_org_unit")),
        sa.ForeignKeyConstraint(["facility_id"], ["org_unit.id"],
                                name=op.f("fk_outreach_session_facility_id_org_unit")),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_outreach_session")),
        sa.UniqueConstraint("id", name=op.f("uq_outreach_session_id")),
    )
    with op.batch_alter_table("outreach_session", schema=None) as batch_op:
        batch_op.create_index("ix_outreach_session_facility_date",
                              ["facility_id", "session_date"], unique=False)
        batch_op.create_index("ix_outreach_session_district_date",
                              ["district_id", "session_date"], unique=False)
        batch_op.create_index("ix_outreach_session_date_status",
                              ["session_date", "status"], unique=False)
    op.create_table(
        "outreach_session_village",
        sa.Column("session_pk", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["session_pk"], ["outreach_session.pk"], ondelete="CASCADE",
                                name=op.f("fk_outreach_session_village_session_pk_outreach_session")),
        sa.ForeignKeyConstraint(["village_id"], ["org_unit.id"],
                                name=op.f("fk_outreach_session_village_village_id_org_unit")),
        sa.PrimaryKeyConstraint("session_pk", "village_id",
                                name=op.f("pk_outreach_session_village")),
    )
    with op.batch_alter_table("vaccination", schema=None) as batch_op:
        batch_op.create_index("ix_vaccination_session", ["session"], unique=False,
                              sqlite_where=sa.text("session IS NOT NULL"),
                              postgresql_where=sa.text("session IS NOT NULL"))


def downgrade() -> None:
    """Drop the outreach tables and the index of doses by session."""
    with op.batch_alter_table("vaccination", schema=None) as batch_op:
        batch_op.drop_index("ix_vaccination_session",
                            sqlite_where=sa.text("session IS NOT NULL"),
                            postgresql_where=sa.text("session IS NOT NULL"))
    op.drop_table("outreach_session_village")
    with op.batch_alter_table("outreach_session", schema=None) as batch_op:
        batch_op.drop_index("ix_outreach_session_date_status")
        batch_op.drop_index("ix_outreach_session_district_date")
        batch_op.drop_index("ix_outreach_session_facility_date")
    op.drop_table("outreach_session")
