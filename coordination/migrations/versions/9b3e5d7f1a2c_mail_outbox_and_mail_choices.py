"""e-mail: the outbox of notifications that also go by mail, and each person's choice of kinds

Revision ID: 9b3e5d7f1a2c
Revises: b8e1f2a3c4d5
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b3e5d7f1a2c'
down_revision = 'b8e1f2a3c4d5'
branch_labels = None
depends_on = None


def upgrade():
    # Every kind of e-mail is on for everyone until they turn it off (an empty list).
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('mail_turned_off', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    op.create_table(
        'outgoing_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_try_at', sa.DateTime(), nullable=False),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('given_up_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['notification_id'], ['notification.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('notification_id'),
    )
    with op.batch_alter_table('outgoing_mail') as batch_op:
        batch_op.create_index('ix_outgoing_mail_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_outgoing_mail_due', ['next_try_at'], unique=False,
                              sqlite_where=sa.text('sent_at IS NULL AND given_up_at IS NULL'),
                              postgresql_where=sa.text('sent_at IS NULL AND given_up_at IS NULL'))


def downgrade():
    with op.batch_alter_table('outgoing_mail') as batch_op:
        batch_op.drop_index('ix_outgoing_mail_due')
        batch_op.drop_index('ix_outgoing_mail_user_id')
    op.drop_table('outgoing_mail')
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('mail_turned_off')
