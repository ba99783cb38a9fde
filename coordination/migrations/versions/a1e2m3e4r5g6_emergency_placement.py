"""emergency placement: placed before the guardianship decision, its deadline, moving out

Revision ID: a1e2m3e4r5g6
Revises: 9b3e5d7f1a2c
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1e2m3e4r5g6'
down_revision = '9b3e5d7f1a2c'
branch_labels = None
depends_on = None

# Written out here rather than imported from the model: a migration says what the schema was
# at its revision, whatever the model says later.
OLD_STATUSES = ("'draft', 'submitted', 'accepted', 'approved', 'placed', "
                "'declined', 'rejected', 'withdrawn', 'expired', 'discharged'")
NEW_STATUSES = ("'draft', 'submitted', 'accepted', 'approved', 'placed', 'emergency_placed', 'moving_out', "
                "'declined', 'rejected', 'withdrawn', 'expired', 'discharged'")
# The index as the transfers' migration (b8e1f2a3c4d5) left it, and with the new statuses: a
# child in a bed (placed, or placed in an emergency, or moving out) has no other referral of
# their own; a transfer in progress is the one exception.
OLD_LIVE = ("(status IN ('submitted', 'accepted', 'approved') AND transfer_of_id IS NULL) "
            "OR status = 'placed'")
NEW_LIVE = ("(status IN ('submitted', 'accepted', 'approved') AND transfer_of_id IS NULL) "
            "OR status IN ('placed', 'emergency_placed', 'moving_out')")


def _one_live_referral_per_child(batch_op, where: str) -> None:
    batch_op.create_index('one_live_referral_per_child', ['child_id'], unique=True,
                          sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade():
    # A child placed in an emergency before the guardianship decision, or moving out after a
    # rejection, still occupies a bed: their referral is live, and the child has no other.
    with op.batch_alter_table('referral') as batch_op:
        batch_op.add_column(sa.Column('decision_due_at', sa.DateTime(), nullable=True))
        batch_op.drop_constraint('referral_status', type_='check')
        batch_op.create_check_constraint('referral_status', f"status IN ({NEW_STATUSES})")
        batch_op.drop_index('one_live_referral_per_child')
        _one_live_referral_per_child(batch_op, NEW_LIVE)


def downgrade():
    # Refused while any referral is in a new status: the old schema has no word for it, and
    # quietly changing a child's placement would be worse than stopping.
    count = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM referral WHERE status IN ('emergency_placed', 'moving_out')")).scalar()
    if count:
        raise RuntimeError(f"{count} referrals are in an emergency placement or moving out; "
                           "settle them before downgrading past a1e2m3e4r5g6")
    with op.batch_alter_table('referral') as batch_op:
        batch_op.drop_index('one_live_referral_per_child')
        _one_live_referral_per_child(batch_op, OLD_LIVE)
        batch_op.drop_constraint('referral_status', type_='check')
        batch_op.create_check_constraint('referral_status', f"status IN ({OLD_STATUSES})")
        batch_op.drop_column('decision_due_at')
