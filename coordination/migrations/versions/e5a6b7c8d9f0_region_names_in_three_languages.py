"""region names in three languages

Revision ID: e5a6b7c8d9f0
Revises: d2f3a4b5c6e7
Create Date: 2026-11-28 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a6b7c8d9f0'
down_revision = 'd2f3a4b5c6e7'
branch_labels = None
depends_on = None


# The economic regions as the demo data names them (official Azerbaijani, Russian, English).
from coordination.demo import REGIONS  # noqa: E402


def upgrade():
    with op.batch_alter_table('region') as batch_op:
        batch_op.add_column(sa.Column('name_ru', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('name_en', sa.String(length=100), nullable=False, server_default=''))
    # Regions loaded by earlier demo data carry their English names: give them their
    # official names, and the Russian and English ones beside them.
    region = sa.table('region', sa.column('code', sa.String), sa.column('name', sa.String),
                      sa.column('name_ru', sa.String), sa.column('name_en', sa.String))
    for code, name, name_ru, name_en in REGIONS:
        op.execute(region.update().where(region.c.code == code, region.c.name == name_en)
                   .values(name=name, name_ru=name_ru, name_en=name_en))


def downgrade():
    region = sa.table('region', sa.column('code', sa.String), sa.column('name', sa.String),
                      sa.column('name_en', sa.String))
    for code, name, _name_ru, name_en in REGIONS:
        op.execute(region.update().where(region.c.code == code, region.c.name == name).values(name=name_en))
    with op.batch_alter_table('region') as batch_op:
        batch_op.drop_column('name_en')
        batch_op.drop_column('name_ru')
