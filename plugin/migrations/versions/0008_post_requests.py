"""post requests and overwrite confirmations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_requested_by', sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column('post_requested_at', sa.DateTime(timezone=True),
                            nullable=True))
        batch_op.add_column(sa.Column('overwrite_by', sa.String(length=150), nullable=True))
        batch_op.add_column(sa.Column('overwrite_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('overwrite_reply_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_reviews_status_post_requested_at', ['status',
                              'post_requested_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_status_post_requested_at')
        batch_op.drop_column('overwrite_reply_hash')
        batch_op.drop_column('overwrite_reason')
        batch_op.drop_column('overwrite_by')
        batch_op.drop_column('post_requested_at')
        batch_op.drop_column('post_requested_by')
