"""child name keys folded across scripts and spellings

Revision ID: d2f3a4b5c6e7
Revises: c4d8e9f0a1b2
Create Date: 2026-11-28 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2f3a4b5c6e7'
down_revision = 'c4d8e9f0a1b2'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
