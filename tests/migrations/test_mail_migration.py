"""The migration that adds e-mail (9b3e5d7f1a2c): the people already there keep every kind
of e-mail on, and the downgrade takes the outbox and the choice away again."""
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coordination.extensions import db

BEFORE, REVISION = "b8e1f2a3c4d5", "9b3e5d7f1a2c"


def test_existing_people_get_every_kind_of_mail_and_the_downgrade_removes_it(database):
    upgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO region (id, code, name, name_ru, name_en) VALUES (1, 'R', 'R', '', '')"))
        connection.execute(sa.text("INSERT INTO organization (id, name, kind, region_id, active) "
                                   "VALUES (1, 'O', 'ngo', 1, true)"))
        connection.execute(sa.text(
            "INSERT INTO \"user\" (id, email, name, role, organization_id, password_hash, locale, active, created_at, "
            "must_change_password, session_version) VALUES (1, 'a@example.org', 'A', 'shelter_staff', 1, 'x', 'az', "
            "true, CURRENT_TIMESTAMP, false, 1)"))

    upgrade(revision=REVISION)

    with db.engine.connect() as connection:
        turned_off = connection.execute(sa.text('SELECT mail_turned_off FROM "user"')).scalar_one()
    assert turned_off in ([], "[]")
    assert sa.inspect(db.engine).has_table("outgoing_mail")

    downgrade(revision=BEFORE)

    assert not sa.inspect(db.engine).has_table("outgoing_mail")
    assert "mail_turned_off" not in {c["name"] for c in sa.inspect(db.engine).get_columns("user")}
