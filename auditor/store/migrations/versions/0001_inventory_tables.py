"""inventory tables

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('endpoint',
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('host_id', sa.String(length=64), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('protocol', sa.String(length=16), nullable=False),
    sa.Column('tls', sa.Boolean(), nullable=False),
    sa.Column('server_name', sa.String(length=255), nullable=True),
    sa.Column('ca_bundle', sa.String(), nullable=True),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('system_id', 'host_id', 'port')
    )
    op.create_table('host',
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('host_id', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('zone', sa.String(length=32), nullable=True),
    sa.Column('exposure', sa.String(length=16), nullable=False),
    sa.Column('approved_ports', sa.JSON(), nullable=False),
    sa.Column('patch_method', sa.String(length=16), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('system_id', 'host_id')
    )
    op.create_table('inventory_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organisations', sa.Integer(), nullable=False),
    sa.Column('systems', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inventory_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_import_sha256'), ['sha256'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('name_en', sa.String(), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('declared', sa.JSON(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('system',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('name_en', sa.String(), nullable=True),
    sa.Column('owner_id', sa.String(length=64), nullable=False),
    sa.Column('operator_id', sa.String(length=64), nullable=False),
    sa.Column('security_unit_id', sa.String(length=64), nullable=True),
    sa.Column('lifecycle', sa.String(length=16), nullable=False),
    sa.Column('go_live', sa.Date(), nullable=True),
    sa.Column('retired_on', sa.Date(), nullable=True),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('declared', sa.JSON(), nullable=False),
    sa.Column('declared_sha256', sa.String(length=64), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )



def downgrade() -> None:

    op.drop_table('system')
    op.drop_table('organisation')
    with op.batch_alter_table('inventory_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inventory_import_sha256'))

    op.drop_table('inventory_import')
    op.drop_table('host')
    op.drop_table('endpoint')

