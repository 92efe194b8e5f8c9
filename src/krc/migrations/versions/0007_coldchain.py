"""coldchain tables

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the coldchain tables."""
    op.create_table('cc_equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=60), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('pqs_code', sa.String(length=30), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('installed_on', sa.Date(), nullable=True),
    sa.Column('energy_source', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['org_unit.id'], name=op.f('fk_cc_equipment_facility_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_equipment')),
    sa.UniqueConstraint('serial', name=op.f('uq_cc_equipment_serial'))
    )
    with op.batch_alter_table('cc_equipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cc_equipment_facility_id'), ['facility_id'], unique=False)

    op.create_table('cc_setting',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_cc_setting'))
    )
    op.create_table('cc_solar_target',
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['org_unit.id'], name=op.f('fk_cc_solar_target_region_id_org_unit')),
    sa.PrimaryKeyConstraint('region_id', name=op.f('pk_cc_solar_target'))
    )
    op.create_table('cc_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['cc_equipment.id'], name=op.f('fk_cc_device_equipment_id_cc_equipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_device')),
    sa.UniqueConstraint('serial', name=op.f('uq_cc_device_serial'))
    )
    with op.batch_alter_table('cc_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cc_device_equipment_id'), ['equipment_id'], unique=False)

    op.create_table('cc_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['cc_equipment.id'], name=op.f('fk_cc_status_change_equipment_id_cc_equipment')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_cc_status_change_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_status_change'))
    )
    with op.batch_alter_table('cc_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cc_status_change_equipment_id'), ['equipment_id'], unique=False)

    op.create_table('cc_alarm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('min_celsius', sa.Float(), nullable=True),
    sa.Column('max_celsius', sa.Float(), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['cc_device.id'], name=op.f('fk_cc_alarm_device_id_cc_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_alarm')),
    sa.UniqueConstraint('device_id', 'type', 'start', name='uq_cc_alarm_device_type_start')
    )
    with op.batch_alter_table('cc_alarm', schema=None) as batch_op:
        batch_op.create_index('ix_cc_alarm_updated_at', ['updated_at'], unique=False)

    op.create_table('cc_reading',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('celsius', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['cc_device.id'], name=op.f('fk_cc_reading_device_id_cc_device')),
    sa.PrimaryKeyConstraint('device_id', 'at', name=op.f('pk_cc_reading'))
    )
    op.create_table('cc_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_serial', sa.String(length=60), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['cc_device.id'], name=op.f('fk_cc_upload_device_id_cc_device')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_cc_upload_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_upload'))
    )


def downgrade() -> None:
    """Drop the coldchain tables."""
    for table in ("cc_upload", "cc_reading", "cc_alarm", "cc_status_change", "cc_device",
                  "cc_solar_target", "cc_setting", "cc_equipment"):
        op.drop_table(table)
