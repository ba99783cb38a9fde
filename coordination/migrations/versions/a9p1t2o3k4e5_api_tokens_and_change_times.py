"""API tokens and their accounts; when each organization, shelter and bed pool last changed

Revision ID: a9p1t2o3k4e5
Revises: f0u1n2d3p4l5
Create Date: 2026-12-03 14:30:00

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9p1t2o3k4e5'
down_revision = 'f0u1n2d3p4l5'
branch_labels = None
depends_on = None

CHANGING = ('organization', 'shelter', 'bed_pool')


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('prefix', sa.String(length=20), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['user.id'], name='fk_api_token_account_id_user'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name='fk_api_token_created_by_id_user'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name='fk_api_token_revoked_by_id_user'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('secret_hash'),
        sa.UniqueConstraint('account_id'),
    )
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('api_account', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Every row existing now changed "now" as far as a client's first sync can tell.
    stamp = datetime.now(timezone.utc).replace(tzinfo=None)
    for table in CHANGING:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('changed_at', sa.DateTime(), nullable=True))
        op.execute(sa.table(table, sa.column('changed_at', sa.DateTime())).update().values(changed_at=stamp))
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('changed_at', existing_type=sa.DateTime(), nullable=False)
    with op.batch_alter_table('bed_pool') as batch_op:
        batch_op.create_index('ix_bed_pool_changed_at', ['changed_at'])


def downgrade():
    with op.batch_alter_table('bed_pool') as batch_op:
        batch_op.drop_index('ix_bed_pool_changed_at')
    for table in reversed(CHANGING):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('changed_at')
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('api_account')
    op.drop_table('api_token')
