"""nutrition community tables

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the nutrition community tables: IYCF recalls and survey imports, support groups
    (GASPA) with members, sessions and attendance, MNP distributions, follow-ups and ledger."""
    op.create_table('iycf_survey_import',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('survey', sa.String(length=60), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['received_by'], ['app_user.id'], name=op.f('fk_iycf_survey_import_received_by_app_user')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_iycf_survey_import'))
    )
    op.create_table('support_group',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('founded_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_support_group_created_by_app_user')),
    sa.ForeignKeyConstraint(['facility_id'], ['org_unit.id'], name=op.f('fk_support_group_facility_id_org_unit')),
    sa.ForeignKeyConstraint(['village_id'], ['org_unit.id'], name=op.f('fk_support_group_village_id_org_unit')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_support_group')),
    sa.UniqueConstraint('id', name=op.f('uq_support_group_id'))
    )
    with op.batch_alter_table('support_group', schema=None) as batch_op:
        batch_op.create_index('ix_support_group_facility', ['facility_id'], unique=False)
        batch_op.create_index('ix_support_group_village', ['village_id'], unique=False)
    op.create_table('iycf_recall',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('child_pk', sa.Integer(), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('survey', sa.String(length=60), nullable=True),
    sa.Column('survey_row', sa.String(length=60), nullable=True),
    sa.Column('import_pk', sa.Integer(), nullable=True),
    sa.Column('recalled_on', sa.Date(), nullable=False),
    sa.Column('age_months', sa.SmallInteger(), nullable=False),
    sa.Column('age_days', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('breastfed', sa.Boolean(), nullable=False),
    sa.Column('early_bf', sa.Boolean(), nullable=True),
    sa.Column('other_liquids', sa.Boolean(), nullable=False),
    sa.Column('grains', sa.Boolean(), nullable=False),
    sa.Column('pulses', sa.Boolean(), nullable=False),
    sa.Column('dairy', sa.Boolean(), nullable=False),
    sa.Column('flesh', sa.Boolean(), nullable=False),
    sa.Column('eggs', sa.Boolean(), nullable=False),
    sa.Column('vita_fv', sa.Boolean(), nullable=False),
    sa.Column('other_fv', sa.Boolean(), nullable=False),
    sa.Column('solid_feeds', sa.SmallInteger(), nullable=False),
    sa.Column('milk_feeds', sa.SmallInteger(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['child_pk'], ['child.pk'], name=op.f('fk_iycf_recall_child_pk_child')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_iycf_recall_created_by_app_user')),
    sa.ForeignKeyConstraint(['import_pk'], ['iycf_survey_import.pk'], name=op.f('fk_iycf_recall_import_pk_iycf_survey_import')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_iycf_recall_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_iycf_recall')),
    sa.UniqueConstraint('id', name=op.f('uq_iycf_recall_id')),
    sa.UniqueConstraint('survey', 'survey_row', name='uq_iycf_recall_survey_row')
    )
    with op.batch_alter_table('iycf_recall', schema=None) as batch_op:
        batch_op.create_index('ix_iycf_recall_child', ['child_pk'], unique=False)
        batch_op.create_index('ix_iycf_recall_unit_day', ['org_unit_id', 'recalled_on'], unique=False)
    op.create_table('mnp_distribution',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('child_pk', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('round', sa.SmallInteger(), nullable=False),
    sa.Column('sachets', sa.Integer(), nullable=False),
    sa.Column('age_months', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('sachets > 0', name=op.f('ck_mnp_distribution_sachets_positive')),
    sa.ForeignKeyConstraint(['child_pk'], ['child.pk'], name=op.f('fk_mnp_distribution_child_pk_child')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_mnp_distribution_created_by_app_user')),
    sa.ForeignKeyConstraint(['facility_id'], ['org_unit.id'], name=op.f('fk_mnp_distribution_facility_id_org_unit')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_mnp_distribution')),
    sa.UniqueConstraint('id', name=op.f('uq_mnp_distribution_id'))
    )
    with op.batch_alter_table('mnp_distribution', schema=None) as batch_op:
        batch_op.create_index('ix_mnp_distribution_child_round', ['child_pk', 'round'], unique=False)
        batch_op.create_index('ix_mnp_distribution_facility_day', ['facility_id', 'given_on'], unique=False)
    op.create_table('mnp_followup',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('child_pk', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.SmallInteger(), nullable=False),
    sa.Column('followed_on', sa.Date(), nullable=False),
    sa.Column('consumed', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('consumed >= 0', name=op.f('ck_mnp_followup_consumed_non_negative')),
    sa.ForeignKeyConstraint(['child_pk'], ['child.pk'], name=op.f('fk_mnp_followup_child_pk_child')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_mnp_followup_created_by_app_user')),
    sa.ForeignKeyConstraint(['facility_id'], ['org_unit.id'], name=op.f('fk_mnp_followup_facility_id_org_unit')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_mnp_followup')),
    sa.UniqueConstraint('id', name=op.f('uq_mnp_followup_id'))
    )
    with op.batch_alter_table('mnp_followup', schema=None) as batch_op:
        batch_op.create_index('ix_mnp_followup_child_round', ['child_pk', 'round'], unique=False)
        batch_op.create_index('ix_mnp_followup_facility_day', ['facility_id', 'followed_on'], unique=False)
    op.create_table('support_group_member',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('group_pk', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_support_group_member_created_by_app_user')),
    sa.ForeignKeyConstraint(['group_pk'], ['support_group.pk'], name=op.f('fk_support_group_member_group_pk_support_group')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_support_group_member')),
    sa.UniqueConstraint('id', name=op.f('uq_support_group_member_id'))
    )
    with op.batch_alter_table('support_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_group_member_group_pk'), ['group_pk'], unique=False)
    op.create_table('support_group_session',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('group_pk', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('other_topic', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_support_group_session_created_by_app_user')),
    sa.ForeignKeyConstraint(['group_pk'], ['support_group.pk'], name=op.f('fk_support_group_session_group_pk_support_group')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_support_group_session')),
    sa.UniqueConstraint('id', name=op.f('uq_support_group_session_id'))
    )
    with op.batch_alter_table('support_group_session', schema=None) as batch_op:
        batch_op.create_index('ix_support_group_session_group_day', ['group_pk', 'held_on'], unique=False)
    op.create_table('mnp_stock_line',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('distribution_pk', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('receipt', 'distribution', 'loss', 'count')", name=op.f('ck_mnp_stock_line_kind_known')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_mnp_stock_line_quantity_non_negative')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_mnp_stock_line_created_by_app_user')),
    sa.ForeignKeyConstraint(['distribution_pk'], ['mnp_distribution.pk'], name=op.f('fk_mnp_stock_line_distribution_pk_mnp_distribution'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['facility_id'], ['org_unit.id'], name=op.f('fk_mnp_stock_line_facility_id_org_unit')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_mnp_stock_line')),
    sa.UniqueConstraint('distribution_pk', name=op.f('uq_mnp_stock_line_distribution_pk')),
    sa.UniqueConstraint('id', name=op.f('uq_mnp_stock_line_id'))
    )
    with op.batch_alter_table('mnp_stock_line', schema=None) as batch_op:
        batch_op.create_index('ix_mnp_stock_line_facility_day', ['facility_id', 'occurred_on'], unique=False)
    op.create_table('support_group_attendance',
    sa.Column('session_pk', sa.Integer(), nullable=False),
    sa.Column('member_pk', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_pk'], ['support_group_member.pk'], name=op.f('fk_support_group_attendance_member_pk_support_group_member')),
    sa.ForeignKeyConstraint(['session_pk'], ['support_group_session.pk'], name=op.f('fk_support_group_attendance_session_pk_support_group_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_pk', 'member_pk', name=op.f('pk_support_group_attendance'))
    )


def downgrade() -> None:
    """Drop the nutrition community tables."""
    op.drop_table('support_group_attendance')
    with op.batch_alter_table('mnp_stock_line', schema=None) as batch_op:
        batch_op.drop_index('ix_mnp_stock_line_facility_day')
    op.drop_table('mnp_stock_line')
    with op.batch_alter_table('support_group_session', schema=None) as batch_op:
        batch_op.drop_index('ix_support_group_session_group_day')
    op.drop_table('support_group_session')
    with op.batch_alter_table('support_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_group_member_group_pk'))
    op.drop_table('support_group_member')
    with op.batch_alter_table('mnp_followup', schema=None) as batch_op:
        batch_op.drop_index('ix_mnp_followup_facility_day')
        batch_op.drop_index('ix_mnp_followup_child_round')
    op.drop_table('mnp_followup')
    with op.batch_alter_table('mnp_distribution', schema=None) as batch_op:
        batch_op.drop_index('ix_mnp_distribution_facility_day')
        batch_op.drop_index('ix_mnp_distribution_child_round')
    op.drop_table('mnp_distribution')
    with op.batch_alter_table('iycf_recall', schema=None) as batch_op:
        batch_op.drop_index('ix_iycf_recall_unit_day')
        batch_op.drop_index('ix_iycf_recall_child')
    op.drop_table('iycf_recall')
    with op.batch_alter_table('support_group', schema=None) as batch_op:
        batch_op.drop_index('ix_support_group_village')
        batch_op.drop_index('ix_support_group_facility')
    op.drop_table('support_group')
    op.drop_table('iycf_survey_import')
