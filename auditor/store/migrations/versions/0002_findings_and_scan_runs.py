"""findings and scan runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.String(length=64), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('times_seen', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('check_id', 'system_id', 'target', name='uq_finding_identity')
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_check_id'), ['check_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_system_id'), ['system_id'], unique=False)

    op.create_table('scan_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('targets', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('indeterminate', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scan_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_run_family'), ['family'], unique=False)

    op.create_table('risk_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('justification', sa.String(), nullable=False),
    sa.Column('accepted_by', sa.String(length=255), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_acceptance_finding_id'), ['finding_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('risk_acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_acceptance_finding_id'))

    op.drop_table('risk_acceptance')
    with op.batch_alter_table('scan_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_run_family'))

    op.drop_table('scan_run')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_system_id'))
        batch_op.drop_index(batch_op.f('ix_finding_status'))
        batch_op.drop_index(batch_op.f('ix_finding_check_id'))

    op.drop_table('finding')

