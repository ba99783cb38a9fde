"""On SQLite, a request that only asks never takes the write lock: it reads beside a writer
(WAL) instead of waiting for it, so one slow page cannot hold up every other request; a
page that writes after all (its audit event) waits its turn, or runs again with the lock
when another connection wrote since it began reading."""
import sqlite3
import threading

import pytest
from sqlalchemy import event, func, select

from coordination.audit.models import AuditEvent
from coordination.extensions import db

from .conftest import Client


@pytest.fixture
def sqlite_file(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("about SQLite's locks; PostgreSQL readers never take a write lock")
    return url.removeprefix("sqlite:///")


class WriteLockHeld:
    """Another process's writer, in the middle of its transaction: it holds the write lock."""

    def __init__(self, path: str):
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        self.connection.execute("ROLLBACK")
        self.connection.close()


def in_background(client: Client, url: str) -> dict:
    """Ask for `url` in a thread of its own; the answer's status lands in the dict."""
    answer = {}

    def ask():
        with client.app.app_context():  # a request of its own, as on a server's other thread
            answer["status"] = client.http.get(url, headers={"Accept-Language": "en"}).status_code

    answer["thread"] = threading.Thread(target=ask, daemon=True)
    answer["thread"].start()
    return answer


def test_pages_that_only_read_answer_while_another_writer_holds_the_lock(app, make, login_as, sqlite_file):
    make.pool()
    client = login_as("caseworker")
    db.session.commit()  # the test itself holds no transaction while the other writer works
    with WriteLockHeld(sqlite_file):
        answers = [in_background(client, url) for url in ("/healthz", "/beds", "/referrals")]
        for answer in answers:
            answer["thread"].join(timeout=10)  # the lock is held for as long as this test likes
        statuses = [answer.get("status") for answer in answers]
    assert statuses == [200, 200, 200], "a page waited for the write lock (no answer is None)"


def test_a_page_that_writes_its_audit_event_waits_for_the_lock_and_records_it(app, make, login_as, sqlite_file):
    client = login_as("caseworker")
    child = make.child(registered_by=client.user)
    url = f"/children/{child.id}"
    db.session.commit()  # the test itself holds no transaction while the other writer works
    with WriteLockHeld(sqlite_file):
        answer = in_background(client, url)
        answer["thread"].join(timeout=1)
        assert answer["thread"].is_alive()  # it needs the lock for its audit event: it waits
    answer["thread"].join(timeout=30)
    assert answer.get("status") == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "child.view", AuditEvent.object_id == str(child.id))) == 1


def test_a_page_whose_reading_is_overtaken_by_a_write_runs_again_with_the_lock(app, make, login_as, sqlite_file):
    """The page has read; another connection writes and commits; the page's audit event then
    finds its snapshot out of date (SQLITE_BUSY_SNAPSHOT): the page runs again, whole."""
    client = login_as("caseworker")
    child = make.child(registered_by=client.user)
    other = sqlite3.connect(sqlite_file, isolation_level=None, timeout=30)
    overtaken = []

    def write_elsewhere_first(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO audit_event"):
            overtaken.append(statement)
        if overtaken == [statement]:
            other.execute("UPDATE region SET name_en = 'Overtaken'")  # any committed write will do

    event.listen(db.engine, "before_cursor_execute", write_elsewhere_first)
    try:
        response = client.get(f"/children/{child.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", write_elsewhere_first)
        other.close()
    assert response.status_code == 200
    assert len(overtaken) == 2, "the page's audit event was tried once, then again with the lock"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "child.view", AuditEvent.object_id == str(child.id))) == 1
