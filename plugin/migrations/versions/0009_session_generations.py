"""session generations and sign-in throttling per account and address

Every user gets a session generation, written into each session cookie, so signing out,
changing the password or deactivating can end every session issued before. Failed sign-ins
are read per (account, address) pair, which the new index serves.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(),
                                      server_default=sa.text('0'), nullable=False))
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_name_at')
        batch_op.create_index('ix_login_failures_name_ip_at', ['name', 'ip', 'at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_name_ip_at')
        batch_op.create_index('ix_login_failures_name_at', ['name', 'at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
