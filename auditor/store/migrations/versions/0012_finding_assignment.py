"""who must fix a finding, by when, and where it stands

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finding_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('assigned_by', sa.String(length=255), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_finding_assignment_finding_id', 'finding_assignment', ['finding_id'])


def downgrade() -> None:
    op.drop_index('ix_finding_assignment_finding_id', 'finding_assignment')
    op.drop_table('finding_assignment')
