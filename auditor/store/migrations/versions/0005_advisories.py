"""advisories

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('advisory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.Column('advisory_id', sa.String(length=128), nullable=False),
    sa.Column('os_id', sa.String(length=16), nullable=False),
    sa.Column('release', sa.String(length=32), nullable=False),
    sa.Column('source_package', sa.String(length=255), nullable=False),
    sa.Column('fixed_version', sa.String(length=255), nullable=True),
    sa.Column('urgency', sa.String(length=32), nullable=True),
    sa.Column('data_date', sa.Date(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('origin', 'advisory_id', 'os_id', 'release', 'source_package', name='uq_advisory')
    )
    with op.batch_alter_table('advisory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advisory_os_id'), ['os_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_advisory_release'), ['release'], unique=False)
        batch_op.create_index(batch_op.f('ix_advisory_source_package'), ['source_package'], unique=False)

    op.create_table('advisory_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file', sa.String(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=32), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('data_date', sa.Date(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )



def downgrade() -> None:

    op.drop_table('advisory_import')
    with op.batch_alter_table('advisory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advisory_source_package'))
        batch_op.drop_index(batch_op.f('ix_advisory_release'))
        batch_op.drop_index(batch_op.f('ix_advisory_os_id'))

    op.drop_table('advisory')

