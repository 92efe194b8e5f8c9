"""nutrition register tables

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, target_col: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{target_col}"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    """Create the nutrition register tables."""
    op.create_table(
        "nutrition_woman",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("age_years", sa.SmallInteger(), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("expected_delivery", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=14), nullable=True),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("child_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _fk("nutrition_woman", "child_pk", "child", "pk"),
        _fk("nutrition_woman", "created_by", "app_user"),
        _fk("nutrition_woman", "facility_id", "org_unit"),
        _fk("nutrition_woman", "village_id", "org_unit"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_nutrition_woman")),
        sa.UniqueConstraint("id", name=op.f("uq_nutrition_woman_id")),
    )
    with op.batch_alter_table("nutrition_woman", schema=None) as batch_op:
        batch_op.create_index("ix_nutrition_woman_facility_status", ["facility_id", "status"],
                              unique=False)
        batch_op.create_index("ix_nutrition_woman_child", ["child_pk"], unique=False)

    op.create_table(
        "nutrition_woman_contact",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("woman_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("contact_on", sa.Date(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("iron_folic_acid", sa.Boolean(), nullable=False),
        sa.Column("ifa_tablets", sa.SmallInteger(), nullable=True),
        sa.Column("muac_mm", sa.Float(), nullable=True),
        sa.Column("muac_at_risk", sa.Boolean(), nullable=True),
        sa.Column("counselling", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _fk("nutrition_woman_contact", "created_by", "app_user"),
        _fk("nutrition_woman_contact", "facility_id", "org_unit"),
        _fk("nutrition_woman_contact", "woman_pk", "nutrition_woman", "pk"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_nutrition_woman_contact")),
        sa.UniqueConstraint("id", name=op.f("uq_nutrition_woman_contact_id")),
        sa.UniqueConstraint("woman_pk", "contact_on", name="uq_nutrition_woman_contact_day"),
    )
    with op.batch_alter_table("nutrition_woman_contact", schema=None) as batch_op:
        batch_op.create_index("ix_nutrition_woman_contact_facility_on",
                              ["facility_id", "contact_on"], unique=False)

    op.create_table(
        "growth_visit",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_pk", sa.Integer(), nullable=False),
        sa.Column("visit_on", sa.Date(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("age_days", sa.Integer(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("lenhei_cm", sa.Float(), nullable=True),
        sa.Column("measure", sa.String(length=1), nullable=True),
        sa.Column("muac_mm", sa.Float(), nullable=True),
        sa.Column("oedema", sa.Boolean(), nullable=False),
        sa.Column("counselling", sa.Boolean(), nullable=False),
        sa.Column("complications", sa.Boolean(), nullable=True),
        sa.Column("appetite_test", sa.String(length=6), nullable=True),
        sa.Column("zlen", sa.Float(), nullable=True),
        sa.Column("flen", sa.Boolean(), nullable=True),
        sa.Column("zwei", sa.Float(), nullable=True),
        sa.Column("fwei", sa.Boolean(), nullable=True),
        sa.Column("zwfl", sa.Float(), nullable=True),
        sa.Column("fwfl", sa.Boolean(), nullable=True),
        sa.Column("zbmi", sa.Float(), nullable=True),
        sa.Column("fbmi", sa.Boolean(), nullable=True),
        sa.Column("zac", sa.Float(), nullable=True),
        sa.Column("fac", sa.Boolean(), nullable=True),
        sa.Column("clenhei", sa.Float(), nullable=True),
        sa.Column("cmeasure", sa.String(length=1), nullable=True),
        sa.Column("c9mo_flag", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("criteria", sa.String(length=40), nullable=True),
        sa.Column("faltering", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _fk("growth_visit", "child_pk", "child", "pk"),
        _fk("growth_visit", "created_by", "app_user"),
        _fk("growth_visit", "facility_id", "org_unit"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_growth_visit")),
        sa.UniqueConstraint("id", name=op.f("uq_growth_visit_id")),
        sa.UniqueConstraint("child_pk", "visit_on", name="uq_growth_visit_child_day"),
    )
    with op.batch_alter_table("growth_visit", schema=None) as batch_op:
        batch_op.create_index("ix_growth_visit_facility_on", ["facility_id", "visit_on"],
                              unique=False)
        batch_op.create_index("ix_growth_visit_on", ["visit_on"], unique=False)

    op.create_table(
        "nutrition_referral",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_pk", sa.Integer(), nullable=False),
        sa.Column("visit_pk", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("criteria", sa.String(length=40), nullable=True),
        sa.Column("destination", sa.String(length=14), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("attended_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=14), nullable=True),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("discharge_met_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _fk("nutrition_referral", "child_pk", "child", "pk"),
        _fk("nutrition_referral", "created_by", "app_user"),
        _fk("nutrition_referral", "facility_id", "org_unit"),
        _fk("nutrition_referral", "updated_by", "app_user"),
        _fk("nutrition_referral", "visit_pk", "growth_visit", "pk"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_nutrition_referral")),
        sa.UniqueConstraint("id", name=op.f("uq_nutrition_referral_id")),
        sa.UniqueConstraint("visit_pk", name=op.f("uq_nutrition_referral_visit_pk")),
    )
    with op.batch_alter_table("nutrition_referral", schema=None) as batch_op:
        batch_op.create_index("ix_nutrition_referral_child", ["child_pk"], unique=False)
        batch_op.create_index("ix_nutrition_referral_facility_on",
                              ["facility_id", "referred_on"], unique=False)
        batch_op.create_index("ix_nutrition_referral_status", ["status"], unique=False)

    op.create_table(
        "nutrition_register_setting",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_nutrition_register_setting")),
    )


def downgrade() -> None:
    """Drop the nutrition register tables."""
    op.drop_table("nutrition_register_setting")
    with op.batch_alter_table("nutrition_referral", schema=None) as batch_op:
        batch_op.drop_index("ix_nutrition_referral_status")
        batch_op.drop_index("ix_nutrition_referral_facility_on")
        batch_op.drop_index("ix_nutrition_referral_child")
    op.drop_table("nutrition_referral")
    with op.batch_alter_table("growth_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_growth_visit_on")
        batch_op.drop_index("ix_growth_visit_facility_on")
    op.drop_table("growth_visit")
    with op.batch_alter_table("nutrition_woman_contact", schema=None) as batch_op:
        batch_op.drop_index("ix_nutrition_woman_contact_facility_on")
    op.drop_table("nutrition_woman_contact")
    with op.batch_alter_table("nutrition_woman", schema=None) as batch_op:
        batch_op.drop_index("ix_nutrition_woman_child")
        batch_op.drop_index("ix_nutrition_woman_facility_status")
    op.drop_table("nutrition_woman")
