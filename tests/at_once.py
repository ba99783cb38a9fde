"""Periodic work run by several servers at the same instant: each on its own thread, app
context and database session, released together by a barrier, each committing its own work."""
import threading

from coordination.extensions import db


def on_servers_at_once(app, work, servers: int = 2) -> list:
    """What `work()` returned on each server, in server order. Any server's error fails the
    test with that error; the test's own session is expired afterwards, to read afresh."""
    start = threading.Barrier(servers)
    results = [None] * servers
    failures = []

    def server(n):
        try:
            with app.app_context():
                start.wait(timeout=30)
                results[n] = work()
                db.session.commit()
        except Exception as error:  # reported below, so the test shows it
            failures.append(repr(error))

    threads = [threading.Thread(target=server, args=(n,)) for n in range(servers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    db.session.expire_all()
    assert failures == [], failures
    return results
