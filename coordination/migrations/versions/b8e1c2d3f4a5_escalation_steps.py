"""escalation: each step of a referral's wait escalated, once

Revision ID: b8e1c2d3f4a5
Revises: b9c0d1e2f3a4
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8e1c2d3f4a5'
down_revision = 'b9c0d1e2f3a4'
branch_labels = None
depends_on = None


def upgrade():
    # One row per step of one wait; the unique key is what makes two servers running the
    # periodic command at once record (and tell) each step once.
    op.create_table(
        'escalation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('waiting_since', sa.DateTime(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('level >= 1', name='escalation_level'),
        sa.CheckConstraint("audience IN ('actors', 'guardianship', 'oversight')", name='escalation_audience'),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('referral_id', 'status', 'waiting_since', 'level', name='uq_escalation_step'),
    )
    with op.batch_alter_table('escalation') as batch_op:
        batch_op.create_index('ix_escalation_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('escalation') as batch_op:
        batch_op.drop_index('ix_escalation_created_at')
    op.drop_table('escalation')
