"""messaging tables

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the messaging tables."""
    op.create_table(
        "msg_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("whatsapp", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("child_pk", sa.Integer(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rapidpro_uuid", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["child_pk"], ["child.pk"],
                                name=op.f("fk_msg_contact_child_pk_child")),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_unit.id"],
                                name=op.f("fk_msg_contact_org_unit_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_contact")),
        sa.UniqueConstraint("kind", "phone", name="uq_msg_contact_kind_phone"),
    )
    op.create_index(op.f("ix_msg_contact_org_unit_id"), "msg_contact", ["org_unit_id"])
    op.create_index(op.f("ix_msg_contact_phone"), "msg_contact", ["phone"])

    op.create_table(
        "msg_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("rapidpro_uuid", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_unit.id"],
                                name=op.f("fk_msg_group_org_unit_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_group")),
        sa.UniqueConstraint("code", name=op.f("uq_msg_group_code")),
    )
    op.create_index(op.f("ix_msg_group_org_unit_id"), "msg_group", ["org_unit_id"])

    op.create_table(
        "msg_group_member",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["msg_contact.id"],
                                name=op.f("fk_msg_group_member_contact_id_msg_contact"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["msg_group.id"],
                                name=op.f("fk_msg_group_member_group_id_msg_group"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "contact_id", name=op.f("pk_msg_group_member")),
    )
    op.create_index(op.f("ix_msg_group_member_contact_id"), "msg_group_member", ["contact_id"])

    op.create_table(
        "msg_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("wa_name", sa.String(length=100), nullable=True),
        sa.Column("wa_language", sa.String(length=10), nullable=True),
        sa.Column("wa_params", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_template")),
        sa.UniqueConstraint("key", "language", name="uq_msg_template_key_language"),
    )

    op.create_table(
        "msg_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("producer", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column("template_key", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("child_pk", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("provider_id", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_msg_outbox_dedupe_key")),
    )
    op.create_index(op.f("ix_msg_outbox_org_unit_id"), "msg_outbox", ["org_unit_id"])
    op.create_index(op.f("ix_msg_outbox_provider_id"), "msg_outbox", ["provider_id"])
    op.create_index("ix_msg_outbox_status_next", "msg_outbox", ["status", "next_attempt_at"])

    op.create_table(
        "msg_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_inbound")),
    )

    op.create_table(
        "msg_log_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msg_log_delivery")),
    )
    op.create_index(op.f("ix_msg_log_delivery_outbox_id"), "msg_log_delivery", ["outbox_id"])


def downgrade() -> None:
    """Drop the messaging tables."""
    op.drop_index(op.f("ix_msg_log_delivery_outbox_id"), table_name="msg_log_delivery")
    op.drop_table("msg_log_delivery")
    op.drop_table("msg_inbound")
    op.drop_index("ix_msg_outbox_status_next", table_name="msg_outbox")
    op.drop_index(op.f("ix_msg_outbox_provider_id"), table_name="msg_outbox")
    op.drop_index(op.f("ix_msg_outbox_org_unit_id"), table_name="msg_outbox")
    op.drop_table("msg_outbox")
    op.drop_table("msg_template")
    op.drop_index(op.f("ix_msg_group_member_contact_id"), table_name="msg_group_member")
    op.drop_table("msg_group_member")
    op.drop_index(op.f("ix_msg_group_org_unit_id"), table_name="msg_group")
    op.drop_table("msg_group")
    op.drop_index(op.f("ix_msg_contact_phone"), table_name="msg_contact")
    op.drop_index(op.f("ix_msg_contact_org_unit_id"), table_name="msg_contact")
    op.drop_table("msg_contact")
