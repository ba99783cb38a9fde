"""sign-in pauses per address, pending sign-ins and two-factor enrolments on the server,
the last TOTP step, account notices

Revision ID: f1a2b3c4d5e6
Revises: e5a6b7c8d9f0
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e5a6b7c8d9f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(), nullable=False),
    sa.Column('paused_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'client_address', name='uq_sign_in_pause_pair')
    )
    op.create_table('pending_sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('codes_tried', sa.Integer(), nullable=False),
    sa.Column('new_totp_secret', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('pending_sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_sign_in_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_sign_in_user_id'), ['user_id'], unique=False)
    op.create_table('totp_enrolment',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
    # The old lock was per account, which let anyone who knew an address lock its owner out;
    # pauses are per address now, and a lock still running is simply lifted.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.drop_column('totp_last_step')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('params')
    op.drop_table('totp_enrolment')
    with op.batch_alter_table('pending_sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_sign_in_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_sign_in_started_at'))
    op.drop_table('pending_sign_in')
    op.drop_table('sign_in_pause')
