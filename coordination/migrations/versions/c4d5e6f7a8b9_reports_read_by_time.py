"""reports read by time: bed updates by pool and time, referrals by when they were submitted

Revision ID: c4d5e6f7a8b9
Revises: b3d4e5f6a7b8
Create Date: 2026-12-02 18:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4d5e6f7a8b9'
down_revision = 'b3d4e5f6a7b8'
branch_labels = None
depends_on = None


def upgrade():
    # Occupancy over time takes each pool's last update before a month ends, out of a
    # million updates; the referral reports take the referrals submitted within a range.
    with op.batch_alter_table('bed_update') as batch_op:
        batch_op.create_index('ix_bed_update_pool_time', ['pool_id', 'created_at'], unique=False)
    with op.batch_alter_table('referral') as batch_op:
        batch_op.create_index('ix_referral_submitted_at', ['submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('referral') as batch_op:
        batch_op.drop_index('ix_referral_submitted_at')
    with op.batch_alter_table('bed_update') as batch_op:
        batch_op.drop_index('ix_bed_update_pool_time')
