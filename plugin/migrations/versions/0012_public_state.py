"""a reply's public state after the write: posted, published or rejected

A platform that accepted a reply has not necessarily shown it: Google Business Profile
moderates replies and the App Store publishes responses later. `public_state` says what the
platform shows, `public_reason` keeps its reason for a rejection (Google's PolicyViolation),
and `public_checks` counts the reads so far, for the backoff between them.

Revision ID: 0012_public_state
Revises: 0009
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_public_state'
down_revision = '0011_desk'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on every engine: a batch rebuild of `reviews` on SQLite would drop the
# full-text search triggers that 0011 put on it.
def upgrade() -> None:
    op.add_column('reviews', sa.Column('public_state', sa.String(length=20), nullable=True))
    op.add_column('reviews', sa.Column('public_reason', sa.String(length=80), nullable=True))
    op.add_column('reviews', sa.Column('public_checks', sa.Integer(),
                                       server_default=sa.text('0'), nullable=False))
    # Replies posted before: what their last read showed.
    op.execute("UPDATE reviews SET public_state = 'published' WHERE posted_at IS NOT NULL "
               "AND (post_state IS NULL OR post_state IN ('published', 'approved'))")
    op.execute("UPDATE reviews SET public_state = 'posted' WHERE posted_at IS NOT NULL "
               "AND public_state IS NULL")


def downgrade() -> None:
    for column in ('public_checks', 'public_reason', 'public_state'):
        op.drop_column('reviews', column)
