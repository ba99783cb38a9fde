"""sibling groups: brothers and sisters linked, and referred together to one shelter

Revision ID: 5b1c9d2e7f30
Revises: b8e1c2d3f4a5
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1c9d2e7f30'
down_revision = 'b8e1c2d3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sibling_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'referral_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shelter_id', sa.Integer(), nullable=False),
        sa.Column('referring_organization_id', sa.Integer(), nullable=False),
        sa.Column('caseworker_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['shelter_id'], ['shelter.id']),
        sa.ForeignKeyConstraint(['referring_organization_id'], ['organization.id']),
        sa.ForeignKeyConstraint(['caseworker_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('sibling_group') as batch_op:
        batch_op.create_index('ix_sibling_group_organization_id', ['organization_id'], unique=False)
    with op.batch_alter_table('referral_group') as batch_op:
        batch_op.create_index('ix_referral_group_referring_organization_id', ['referring_organization_id'],
                              unique=False)
    with op.batch_alter_table('child') as batch_op:
        batch_op.add_column(sa.Column('sibling_group_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_child_sibling_group_id', 'sibling_group', ['sibling_group_id'], ['id'])
        batch_op.create_index('ix_child_sibling_group_id', ['sibling_group_id'], unique=False)
    with op.batch_alter_table('referral') as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_referral_group_id', 'referral_group', ['group_id'], ['id'])
        batch_op.create_index('ix_referral_group_id', ['group_id'], unique=False)


def downgrade():
    with op.batch_alter_table('referral') as batch_op:
        batch_op.drop_index('ix_referral_group_id')
        batch_op.drop_constraint('fk_referral_group_id', type_='foreignkey')
        batch_op.drop_column('group_id')
    with op.batch_alter_table('child') as batch_op:
        batch_op.drop_index('ix_child_sibling_group_id')
        batch_op.drop_constraint('fk_child_sibling_group_id', type_='foreignkey')
        batch_op.drop_column('sibling_group_id')
    op.drop_table('referral_group')
    op.drop_table('sibling_group')
