"""ledger baseline: a store written by an earlier version gets one ledger entry with the state its findings, runs,
acceptances and advisory data had then, so that `auditor verify` can tell later changes from what came before

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from alembic import op
from sqlmodel import Session, col, select

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from auditor.ledger.chain import append
    from auditor.ledger.state import baseline_payload
    from auditor.store.tables import LedgerRow

    with Session(bind=op.get_bind()) as session:
        if session.exec(select(LedgerRow.id).limit(1)).first() is None:
            return  # a new store: the ledger records everything from its first entry
        if session.exec(select(LedgerRow.id).where(col(LedgerRow.kind) == "ledger.baseline")).first() is not None:
            return
        append(session, "ledger.baseline", "store", baseline_payload(session))
        session.commit()  # joins the migration's transaction, which Alembic commits


def downgrade() -> None:
    pass
