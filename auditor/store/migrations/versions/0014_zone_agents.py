"""zone agents: registered agents and the tasks sent to them

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agent',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('zone', sa.String(64), nullable=False),
        sa.Column('public_key', sa.String(64), nullable=False),
        sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('registered_by', sa.String(255), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_agent_zone', 'agent', ['zone'])
    op.create_table(
        'agent_task',
        sa.Column('id', sa.String(32), primary_key=True),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('zone', sa.String(64), nullable=False),
        sa.Column('family', sa.String(16), nullable=False),
        sa.Column('targets', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('agent_id', sa.String(64), nullable=True),
        sa.Column('result_sha256', sa.String(64), nullable=True),
        sa.Column('note', sa.String(), nullable=True),
    )
    op.create_index('ix_agent_task_run_id', 'agent_task', ['run_id'])
    op.create_index('ix_agent_task_zone', 'agent_task', ['zone'])


def downgrade() -> None:
    op.drop_table('agent_task')
    op.drop_table('agent')
