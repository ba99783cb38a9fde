"""audit events found by organization: the trail's organization filter uses an index

Revision ID: b3d4e5f6a7b8
Revises: a7c8d9e0f1b2
Create Date: 2026-12-02 17:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3d4e5f6a7b8'
down_revision = 'a7c8d9e0f1b2'
branch_labels = None
depends_on = None


def upgrade():
    # Without it, filtering millions of events by an organization that acted rarely reads
    # the whole trail, newest first, to fill one page.
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.create_index('ix_audit_event_organization_id', ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.drop_index('ix_audit_event_organization_id')
