"""what is live now, indexed: children never in a bed, referrals waiting, children in a bed; a pool's referrals by urgency; notifications by page

Revision ID: b1w2a3i4t5e6
Revises: a9p1t2o3k4e5
Create Date: 2026-12-04 03:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b1w2a3i4t5e6'
down_revision = 'a9p1t2o3k4e5'
branch_labels = None
depends_on = None

# As in coordination/referrals/models.py, written out: a migration keeps the schema of its day.
WAITING_WHERE = "status IN ('submitted', 'accepted', 'approved', 'emergency_placed')"
IN_BED_WHERE = "status IN ('placed', 'emergency_placed', 'moving_out')"
CHILD_WAITING_WHERE = "anonymized_at IS NULL AND reached_bed_at IS NULL"


def upgrade():
    # The overview counted the children still without a bed by looking, for every child of the
    # whole history, for a referral that arrived; each child now says when they first reached a
    # bed, and an index holds only the children who never have.
    with op.batch_alter_table('child') as batch_op:
        batch_op.add_column(sa.Column('reached_bed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE child SET reached_bed_at = (SELECT min(referral.arrived_at) FROM referral "
               "WHERE referral.child_id = child.id AND referral.arrived_at IS NOT NULL)")
    op.create_index('ix_child_waiting_for_bed', 'child',
                    [sa.text('coalesce(found_region_id, region_id)'), 'found_place', 'found_at'],
                    sqlite_where=sa.text(CHILD_WAITING_WHERE), postgresql_where=sa.text(CHILD_WAITING_WHERE))
    # The referrals waiting at a stage and the children in a bed, per pool: what is live now.
    op.create_index('ix_referral_waiting', 'referral', ['pool_id', 'status', 'status_changed_at', 'id'],
                    sqlite_where=sa.text(WAITING_WHERE), postgresql_where=sa.text(WAITING_WHERE))
    op.create_index('ix_referral_in_bed', 'referral', ['pool_id'],
                    sqlite_where=sa.text(IN_BED_WHERE), postgresql_where=sa.text(IN_BED_WHERE))
    # A pool's referrals of one urgency (the lists' urgency filter, for shelter staff and
    # guardianship): emergencies are few, and a pool's whole history is long.
    op.create_index('ix_referral_pool_urgency_changed', 'referral', ['pool_id', 'urgency', 'status_changed_at', 'id'])
    # /notifications by pages, newest first by time and id (coordination/paging.py).
    op.create_index('ix_notification_user_created', 'notification', ['user_id', 'created_at', 'id'])
    op.drop_index('ix_notification_user_newest', table_name='notification')


def downgrade():
    op.drop_index('ix_referral_pool_urgency_changed', table_name='referral')
    op.create_index('ix_notification_user_newest', 'notification', ['user_id', 'id'])
    op.drop_index('ix_notification_user_created', table_name='notification')
    op.drop_index('ix_referral_in_bed', table_name='referral')
    op.drop_index('ix_referral_waiting', table_name='referral')
    op.drop_index('ix_child_waiting_for_bed', table_name='child')
    with op.batch_alter_table('child') as batch_op:
        batch_op.drop_column('reached_bed_at')
