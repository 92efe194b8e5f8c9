"""stock tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the stock tables."""
    op.create_table(
        "stock_setting",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stock_setting")),
    )
    op.create_table(
        "stock_balance",
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=12), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("last_count_on", sa.Date(), nullable=True),
        sa.Column("last_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "product", name=op.f("pk_stock_balance")),
    )
    op.create_table(
        "stock_month",
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=12), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("lost", sa.Integer(), nullable=False),
        sa.Column("used_reports", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "product", "period", name=op.f("pk_stock_month")),
    )
    op.create_table(
        "stock_report",
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("first_received_on", sa.Date(), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "period", name=op.f("pk_stock_report")),
    )
    with op.batch_alter_table("stock_report", schema=None) as batch_op:
        batch_op.create_index("ix_stock_report_period", ["period"], unique=False)

    op.create_table(
        "stock_reporter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["org_unit.id"],
                                name=op.f("fk_stock_reporter_facility_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reporter")),
        sa.UniqueConstraint("phone", name=op.f("uq_stock_reporter_phone")),
    )
    with op.batch_alter_table("stock_reporter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_reporter_facility_id"), ["facility_id"],
                              unique=False)

    op.create_table(
        "stock_message",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("text", sa.String(length=1600), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("reply", sa.String(length=1000), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["facility_id"], ["org_unit.id"],
                                name=op.f("fk_stock_message_facility_id_org_unit")),
        sa.ForeignKeyConstraint(["reporter_id"], ["stock_reporter.id"],
                                name=op.f("fk_stock_message_reporter_id_stock_reporter")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_stock_message_user_id_app_user")),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_stock_message")),
        sa.UniqueConstraint("key", name=op.f("uq_stock_message_key")),
    )
    with op.batch_alter_table("stock_message", schema=None) as batch_op:
        batch_op.create_index("ix_stock_message_received", ["received_at"], unique=False)

    op.create_table(
        "stock_transaction",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("book_balance", sa.Integer(), nullable=True),
        sa.Column("discrepancy", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity >= 0",
                           name=op.f("ck_stock_transaction_quantity_non_negative")),
        sa.CheckConstraint("kind IN ('receipt', 'issue', 'consumption', 'loss', 'count')",
                           name=op.f("ck_stock_transaction_kind_known")),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"],
                                name=op.f("fk_stock_transaction_created_by_app_user")),
        sa.ForeignKeyConstraint(["facility_id"], ["org_unit.id"],
                                name=op.f("fk_stock_transaction_facility_id_org_unit")),
        sa.ForeignKeyConstraint(["message_pk"], ["stock_message.pk"],
                                name=op.f("fk_stock_transaction_message_pk_stock_message")),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_stock_transaction")),
        sa.UniqueConstraint("id", name=op.f("uq_stock_transaction_id")),
    )
    with op.batch_alter_table("stock_transaction", schema=None) as batch_op:
        batch_op.create_index("ix_stock_transaction_line",
                              ["facility_id", "product", "occurred_on"], unique=False)


def downgrade() -> None:
    """Drop the stock tables."""
    with op.batch_alter_table("stock_transaction", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_transaction_line")
    op.drop_table("stock_transaction")
    with op.batch_alter_table("stock_message", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_message_received")
    op.drop_table("stock_message")
    with op.batch_alter_table("stock_reporter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_reporter_facility_id"))
    op.drop_table("stock_reporter")
    with op.batch_alter_table("stock_report", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_report_period")
    op.drop_table("stock_report")
    op.drop_table("stock_month")
    op.drop_table("stock_balance")
    op.drop_table("stock_setting")
