"""scale: status and daily tallies kept by triggers, and an index per queue filter in sort order

The single-column indexes of the filter columns give way to (column, written, id), which also
serve their lookups; the wide covering index of the status counts goes, the counts now come
from `review_tallies` (see plugin.store.tallies and plugin.store.indexes).

Revision ID: 0014_scale
Revises: 0013_teamwork
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

from plugin.store import tallies

revision = '0014_scale'
down_revision = '0013_teamwork'
branch_labels = None
depends_on = None

FILTERED = ('platform', 'source', 'policy', 'language', 'escalated', 'has_offer', 'assignee')
FACETS = ['status', 'rating', 'platform', 'language', 'escalated', 'has_offer',
          'violation_count', 'source']


def upgrade() -> None:
    op.create_table(
        'review_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('policy', sa.String(length=200), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('escalated', sa.Boolean(), nullable=False),
        sa.Column('assignee', sa.String(length=150), nullable=False),
        sa.Column('replied', sa.Boolean(), nullable=False),
        sa.Column('reviews', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_review_tallies'),
    )
    op.create_table(
        'review_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('policy', sa.String(length=200), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('location', sa.Text(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Boolean(), nullable=False),
        sa.Column('reply', sa.String(length=20), nullable=False),
        sa.Column('reviews', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_review_days'),
    )
    op.create_index('ix_review_days_day', 'review_days', ['day'])
    tallies.create(op.get_bind())
    op.drop_index('ix_reviews_queue_facets', table_name='reviews')
    for name in FILTERED:
        op.drop_index(f'ix_reviews_{name}', table_name='reviews')
        op.create_index(f'ix_reviews_{name}_created_id', 'reviews',
                        [name, 'review_created_at', 'id'])
    op.create_index('ix_reviews_escalated_status', 'reviews', ['escalated', 'status'])


def downgrade() -> None:
    op.drop_index('ix_reviews_escalated_status', table_name='reviews')
    for name in FILTERED:
        op.drop_index(f'ix_reviews_{name}_created_id', table_name='reviews')
        op.create_index(f'ix_reviews_{name}', 'reviews', [name])
    op.create_index('ix_reviews_queue_facets', 'reviews', FACETS)
    tallies.drop(op.get_bind())
    op.drop_index('ix_review_days_day', table_name='review_days')
    op.drop_table('review_days')
    op.drop_table('review_tallies')
