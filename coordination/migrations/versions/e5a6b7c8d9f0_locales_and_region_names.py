"""accounts in Azerbaijani by default; region names in three languages

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


def upgrade():
    pass


def downgrade():
    pass
