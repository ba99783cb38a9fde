"""unmet demand: anonymous signals of searches for a bed that found none free

Revision ID: a7c8d9e0f1b2
Revises: f7b8c9d0e1a2
Create Date: 2026-12-02 08:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c8d9e0f1b2'
down_revision = 'f7b8c9d0e1a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'demand_signal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('sex', sa.String(length=10), nullable=False),
        sa.Column('age_band', sa.String(length=10), nullable=False),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('seen_key', sa.String(length=64), nullable=False),
        sa.CheckConstraint("sex IN ('female', 'male')", name='demand_sex'),
        sa.ForeignKeyConstraint(['region_id'], ['region.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seen_key'),
    )
    with op.batch_alter_table('demand_signal') as batch_op:
        batch_op.create_index('ix_demand_signal_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_demand_signal_region_id', ['region_id'], unique=False)


def downgrade():
    op.drop_table('demand_signal')
