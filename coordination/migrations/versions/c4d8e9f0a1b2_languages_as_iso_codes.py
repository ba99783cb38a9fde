"""languages of children and shelters as ISO 639 codes

Revision ID: c4d8e9f0a1b2
Revises: e22ff3816b35
Create Date: 2026-11-28 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e9f0a1b2'
down_revision = 'e22ff3816b35'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
