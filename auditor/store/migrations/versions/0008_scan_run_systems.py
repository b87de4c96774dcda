"""scan_run.systems: the systems a scan run judged (what 'this system was scanned' rests on)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scan_run') as batch:
        batch.add_column(sa.Column('systems', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('scan_run') as batch:
        batch.drop_column('systems')
