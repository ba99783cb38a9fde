"""discharge outcomes and transfers: a referral may be the transfer of a placement

Revision ID: b8e1f2a3c4d5
Revises: 5b1c9d2e7f30
Create Date: 2026-12-03 09:00:00

Discharges recorded before the outcome codes keep reason_code "" (shown as "not recorded"):
nothing is rewritten. A transfer (transfer_of_id set) may hold a bed while the child still
occupies the placement it replaces; the partial unique indexes say so.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8e1f2a3c4d5'
down_revision = '5b1c9d2e7f30'
branch_labels = None
depends_on = None

OLD_LIVE = "status IN ('submitted', 'accepted', 'approved', 'placed')"
# As coordination/referrals/models.py has them (copied: a migration never imports the models).
ONE_LIVE_REFERRAL_WHERE = ("(status IN ('submitted', 'accepted', 'approved') AND transfer_of_id IS NULL) "
                           "OR status = 'placed'")
ONE_HELD_BED_WHERE = "status IN ('submitted', 'accepted', 'approved')"


def _partial(where: str) -> dict:
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


def upgrade():
    with op.batch_alter_table('referral') as batch_op:
        batch_op.add_column(sa.Column('transfer_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_referral_transfer_of_id_referral', 'referral', ['transfer_of_id'], ['id'])
        batch_op.create_index('ix_referral_transfer_of_id', ['transfer_of_id'], unique=False)
    op.drop_index('one_live_referral_per_child', table_name='referral', **_partial(OLD_LIVE))
    op.create_index('one_live_referral_per_child', 'referral', ['child_id'], unique=True,
                    **_partial(ONE_LIVE_REFERRAL_WHERE))
    op.create_index('one_held_bed_per_child', 'referral', ['child_id'], unique=True, **_partial(ONE_HELD_BED_WHERE))


def downgrade():
    # A transfer in progress cannot be told apart once the column goes; the old index would
    # refuse the placed child and its transfer side by side, so such a database cannot go back
    # until the transfers are settled (arrived, withdrawn or expired).
    op.drop_index('one_held_bed_per_child', table_name='referral', **_partial(ONE_HELD_BED_WHERE))
    op.drop_index('one_live_referral_per_child', table_name='referral', **_partial(ONE_LIVE_REFERRAL_WHERE))
    op.create_index('one_live_referral_per_child', 'referral', ['child_id'], unique=True, **_partial(OLD_LIVE))
    with op.batch_alter_table('referral') as batch_op:
        batch_op.drop_index('ix_referral_transfer_of_id')
        batch_op.drop_constraint('fk_referral_transfer_of_id_referral', type_='foreignkey')
        batch_op.drop_column('transfer_of_id')
