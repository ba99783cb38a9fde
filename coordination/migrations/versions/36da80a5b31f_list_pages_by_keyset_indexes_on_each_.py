"""list pages by keyset: indexes on each list's filter, then its time and id

Revision ID: 36da80a5b31f
Revises: c4d5e6f7a8b9
Create Date: 2026-12-03 06:25:47.884984

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '36da80a5b31f'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None


def upgrade():
    # Each list page reads its rows in the order it shows them, a page at a time by keyset
    # (coordination/paging.py), through an index on its filter, then its time and id: no
    # scan and sort of the whole table, however long it grows. The single-column indexes
    # on referral.status, .referring_organization_id and .pool_id and on child.organization_id
    # go: each new index begins with that column and serves what it served.
    with op.batch_alter_table('referral') as batch_op:
        batch_op.create_index('ix_referral_organization_changed',
                              ['referring_organization_id', 'status_changed_at', 'id'], unique=False)
        batch_op.create_index('ix_referral_organization_status_changed',
                              ['referring_organization_id', 'status', 'status_changed_at', 'id'], unique=False)
        batch_op.create_index('ix_referral_status_changed', ['status', 'status_changed_at', 'id'], unique=False)
        batch_op.create_index('ix_referral_changed', ['status_changed_at', 'id'], unique=False)
        batch_op.create_index('ix_referral_pool_changed', ['pool_id', 'status_changed_at', 'id'], unique=False)
        batch_op.drop_index('ix_referral_status')
        batch_op.drop_index('ix_referral_referring_organization_id')
        batch_op.drop_index('ix_referral_pool_id')
    with op.batch_alter_table('child') as batch_op:
        batch_op.create_index('ix_child_organization_created', ['organization_id', 'created_at', 'id'], unique=False)
        batch_op.drop_index('ix_child_organization_id')
    with op.batch_alter_table('notification') as batch_op:
        batch_op.create_index('ix_notification_user_newest', ['user_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification') as batch_op:
        batch_op.drop_index('ix_notification_user_newest')
    with op.batch_alter_table('child') as batch_op:
        batch_op.create_index('ix_child_organization_id', ['organization_id'], unique=False)
        batch_op.drop_index('ix_child_organization_created')
    with op.batch_alter_table('referral') as batch_op:
        batch_op.create_index('ix_referral_referring_organization_id', ['referring_organization_id'], unique=False)
        batch_op.create_index('ix_referral_status', ['status'], unique=False)
        batch_op.create_index('ix_referral_pool_id', ['pool_id'], unique=False)
        batch_op.drop_index('ix_referral_pool_changed')
        batch_op.drop_index('ix_referral_changed')
        batch_op.drop_index('ix_referral_status_changed')
        batch_op.drop_index('ix_referral_organization_status_changed')
        batch_op.drop_index('ix_referral_organization_changed')
