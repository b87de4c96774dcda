"""advisories looked up by release and package name (a patch scan asks for a host's packages only)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_advisory_lookup', 'advisory', ['os_id', 'release', 'source_package'])


def downgrade() -> None:
    op.drop_index('ix_advisory_lookup', 'advisory')
