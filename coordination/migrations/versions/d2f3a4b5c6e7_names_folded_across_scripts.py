"""child name keys folded across scripts and spellings

Revision ID: d2f3a4b5c6e7
Revises: c4d8e9f0a1b2
Create Date: 2026-11-28 23:40:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa

# The one thing of the app a migration imports: the folding itself, a module without Flask
# or models (coordination/referrals/names.py), so that stored keys are exactly what the
# running app computes for a new child. The schema does not change: name_key stays a
# String(401), and names.name_key never returns more.
from coordination.referrals.names import name_key


# revision identifiers, used by Alembic.
revision = 'd2f3a4b5c6e7'
down_revision = 'c4d8e9f0a1b2'
branch_labels = None
depends_on = None

BATCH = 1000  # children read and rewritten per round trip; memory stays flat however many there are

child = sa.table(
    'child',
    sa.column('id', sa.Integer),
    sa.column('given_name', sa.String),
    sa.column('family_name', sa.String),
    sa.column('name_key', sa.String),
)


def _case_folded_key(given: str, family: str) -> str:
    """The key as the app computed it before this revision (case-folded, dotted and dotless
    i alike, nothing more), kept here frozen for the downgrade."""
    joined = " ".join(f"{given.strip()} {family.strip()}".split())
    folded = unicodedata.normalize("NFD", joined).casefold().replace("\u0307", "").replace("ı", "i")
    return unicodedata.normalize("NFC", folded)


def _recompute(key) -> None:
    """Rewrite every child's name_key with `key(given, family)`, in id order, BATCH at a time."""
    if op.get_context().as_sql:
        raise RuntimeError("Revision d2f3a4b5c6e7 recomputes name keys from the stored names in Python; "
                           "run it against the database (flask db upgrade), not as an SQL script.")
    bind = op.get_bind()
    update = child.update().where(child.c.id == sa.bindparam('child_id')).values(name_key=sa.bindparam('key'))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(child.c.id, child.c.given_name, child.c.family_name, child.c.name_key)
            .where(child.c.id > last).order_by(child.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed = [{'child_id': row.id, 'key': new} for row in rows
                   if (new := key(row.given_name or '', row.family_name or '')) != row.name_key]
        if changed:
            bind.execute(update, changed)
        last = rows[-1].id


def upgrade():
    # Anonymized children have empty names and keep an empty key.
    _recompute(name_key)


def downgrade():
    # Not a no-op: the code of the previous revision compares keys in its own case-folded
    # form, and would find no duplicates among children stored with folded keys.
    _recompute(_case_folded_key)
