"""the audit trail signed with a key outside the database

Revision ID: f7b8c9d0e1a2
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 08:00:00

Every event gets the id of the key that signed it. The events already there were hashed with
plain SHA-256 and keep verifying that way, as "legacy": only as the start of the chain, since
the first keyed event signs the hash of the last legacy one (see verify_chain in
coordination/audit/services.py), so rewriting them, which needs no key, still shows.

The head of a trail that has events is signed here, with the app's AUDIT_KEY (every app
has one: production refuses to start without it). Signing it now rather than at the next
append leaves no moment where an unsigned head is genuine, so verify-audit can count every
unsigned head as altered; otherwise whoever can write to the database could relabel every
event as legacy, re-hash them and blank the head's signature. Run verify-audit before
upgrading: the head signed here is whatever the trail ended at.

Downgrading drops the key ids; events signed with a key then no longer verify.
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from coordination.audit.signing import Keyring, head_signature  # pure: no models, no app state


# revision identifiers, used by Alembic.
revision = 'f7b8c9d0e1a2'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    # Two steps each: the default fills the rows there are, then goes, so that every new row
    # must say its key (an app server still running the old code cannot append unkeyed events).
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=8), nullable=False, server_default='legacy'))
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.alter_column('key_id', server_default=None)
    with op.batch_alter_table('audit_head') as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('signature', sa.String(length=64), nullable=False, server_default=''))

    head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('last_event_id', sa.Integer),
                    sa.column('last_hash', sa.String), sa.column('event_count', sa.Integer),
                    sa.column('key_id', sa.String), sa.column('signature', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(head.c.id, head.c.last_event_id, head.c.last_hash, head.c.event_count)).all()
    if rows:
        keys = Keyring.from_config(current_app.config)
        for row in rows:
            connection.execute(head.update().where(head.c.id == row.id).values(
                key_id=keys.current_id,
                signature=head_signature(keys.current, row.last_event_id, row.last_hash, row.event_count)))

    with op.batch_alter_table('audit_head') as batch_op:
        batch_op.alter_column('key_id', server_default=None)
        batch_op.alter_column('signature', server_default=None)


def downgrade():
    with op.batch_alter_table('audit_head') as batch_op:
        batch_op.drop_column('signature')
        batch_op.drop_column('key_id')
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.drop_column('key_id')
