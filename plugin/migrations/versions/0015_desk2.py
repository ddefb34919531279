"""desk2: machine translations for readers, and each person's reading language

Revision ID: 0015_desk2
Revises: 0013_teamwork
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

from plugin.store.models import UTCDateTime

revision = '0015_desk2'
down_revision = '0014_scale'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('language', sa.String(length=35), nullable=True))
    op.create_table(
        'translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('text_hash', sa.String(length=64), nullable=False),
        sa.Column('target_language', sa.String(length=35), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('model', sa.String(length=200), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_translations'),
        sa.UniqueConstraint('text_hash', 'target_language',
                            name='uq_translations_text_hash_target_language'),
    )


def downgrade() -> None:
    op.drop_table('translations')
    op.drop_column('users', 'language')
