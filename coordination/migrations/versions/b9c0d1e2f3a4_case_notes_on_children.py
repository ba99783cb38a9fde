"""case notes on children: only ever inserted, blanked only by anonymization

Revision ID: b9c0d1e2f3a4
Revises: 36da80a5b31f
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b9c0d1e2f3a4'
down_revision = '36da80a5b31f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.CheckConstraint('length(body) <= 4000', name='case_note_length'),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('case_note') as batch_op:
        # A child's notes, newest first, a page at a time by keyset.
        batch_op.create_index('ix_case_note_child_created', ['child_id', 'created_at', 'id'], unique=False)


def downgrade():
    op.drop_table('case_note')
