"""teamwork: who a review is assigned to, internal notes, snippets and saved queue views

Revision ID: 0013_teamwork
Revises: 0012_public_state
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

from plugin.store.models import UTCDateTime

revision = '0013_teamwork'
down_revision = '0012_public_state'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on every engine: a batch rebuild of `reviews` on SQLite would drop the
# full-text search triggers that 0011 put on it.
def upgrade() -> None:
    op.add_column('reviews', sa.Column('assignee', sa.String(length=150), nullable=True))
    op.create_index('ix_reviews_assignee', 'reviews', ['assignee'])
    op.create_table(
        'review_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=150), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], ondelete='CASCADE',
                                name='fk_review_notes_review_id_reviews'),
        sa.PrimaryKeyConstraint('id', name='pk_review_notes'),
    )
    op.create_index('ix_review_notes_review_id', 'review_notes', ['review_id'])
    op.create_table(
        'snippets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=35), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.String(length=150), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_snippets'),
        sa.UniqueConstraint('language', 'title', name='uq_snippets_language_title'),
    )
    op.create_index('ix_snippets_language', 'snippets', ['language'])
    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name='fk_saved_views_user_id_users'),
        sa.PrimaryKeyConstraint('id', name='pk_saved_views'),
        sa.UniqueConstraint('user_id', 'name', name='uq_saved_views_user_name'),
    )
    op.create_index('ix_saved_views_user_id', 'saved_views', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_saved_views_user_id', table_name='saved_views')
    op.drop_table('saved_views')
    op.drop_index('ix_snippets_language', table_name='snippets')
    op.drop_table('snippets')
    op.drop_index('ix_review_notes_review_id', table_name='review_notes')
    op.drop_table('review_notes')
    op.drop_index('ix_reviews_assignee', table_name='reviews')
    op.drop_column('reviews', 'assignee')
