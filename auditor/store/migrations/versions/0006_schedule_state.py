"""schedule state

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('schedule_state',
    sa.Column('family', sa.String(length=16), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('last_started', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=16), nullable=True),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('family', 'system_id')
    )



def downgrade() -> None:

    op.drop_table('schedule_state')

