"""where and when a child was found; the alert for a child still waiting at a police station

Revision ID: f0u1n2d3p4l5
Revises: a1e2m3e4r5g6
Create Date: 2026-12-03 10:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f0u1n2d3p4l5'
down_revision = 'a1e2m3e4r5g6'
branch_labels = None
depends_on = None

# Written out here rather than imported from the model: the schema as it is at this revision.
FOUND_PLACES = ("'border_crossing', 'airport', 'migrant_detention', 'police_station', 'street_outreach', "
                "'hospital', 'self_referral', 'other', 'not_recorded'")


def upgrade():
    # Children registered before the question existed are "not recorded": a visible value that
    # counts as unknown, never silently some place.
    with op.batch_alter_table('child') as batch_op:
        batch_op.add_column(sa.Column('found_place', sa.String(length=30), nullable=False,
                                      server_default='not_recorded'))
        batch_op.add_column(sa.Column('found_region_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('found_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('unplaced_alert_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_child_found_region_id_region', 'region', ['found_region_id'], ['id'])
        batch_op.create_check_constraint('child_found_place', f"found_place IN ({FOUND_PLACES})")
        batch_op.create_index('ix_child_unplaced_alert', ['found_place', 'unplaced_alert_at', 'found_at'])


def downgrade():
    with op.batch_alter_table('child') as batch_op:
        batch_op.drop_index('ix_child_unplaced_alert')
        batch_op.drop_constraint('child_found_place', type_='check')
        batch_op.drop_constraint('fk_child_found_region_id_region', type_='foreignkey')
        batch_op.drop_column('unplaced_alert_at')
        batch_op.drop_column('found_at')
        batch_op.drop_column('found_region_id')
        batch_op.drop_column('found_place')
