"""port observations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('port_observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('host_id', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('protocol', sa.String(length=8), nullable=False),
    sa.Column('baseline_service', sa.String(length=128), nullable=False),
    sa.Column('baseline_product', sa.String(length=255), nullable=False),
    sa.Column('baseline_version', sa.String(length=128), nullable=False),
    sa.Column('service', sa.String(length=128), nullable=False),
    sa.Column('product', sa.String(length=255), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('system_id', 'host_id', 'address', 'port', 'protocol', name='uq_port_obs')
    )
    with op.batch_alter_table('port_observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_port_observation_system_id'), ['system_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('port_observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_port_observation_system_id'))

    op.drop_table('port_observation')

