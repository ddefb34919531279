"""a source names the policy it follows; a review records the policy its draft followed

Several brands (apps, locations, accounts) share one install: each source may name a policy
folder and one of its locations; reviews from other sources follow the default policy. The
review keeps the name of the policy its current draft followed, so the queue can show it and
filters and insights can split by it.

Revision ID: 0010_source_policy
Revises: 0009
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_source_policy'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('policy_location', sa.String(length=100), nullable=True))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_reviews_policy', ['policy'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_policy')
        batch_op.drop_column('policy')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('policy_location')
        batch_op.drop_column('policy')
