"""gunicorn's settings for the app. `gunicorn app:app`, run from this folder, reads this file;
each setting can still be given on the command line (`--workers 4`) or, for the workers and
the address, in the environment (WEB_CONCURRENCY, BIND).

Before any worker starts, it refuses a production start whose sign-in limiter keeps its
counts in memory with more than one worker (coordination/config.py, `limiter_problem`)."""
import multiprocessing
import os
import sys

from coordination.config import limiter_problem

bind = os.environ.get("BIND", "127.0.0.1:8000")
# The usual 2 per core plus one, but at most 8: each worker holds database connections.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
# A request that takes longer than this is a bug or a database in trouble: the worker is
# replaced rather than left to hold its connections (no page should take a second).
timeout = 30
graceful_timeout = 20  # in-flight requests finish when the servers are restarted for a release
keepalive = 5  # seconds; the reverse proxy in front keeps connections open to reuse them

# Logs on standard error, for the service manager's journal: each request with its status,
# size and time taken in seconds (%(L)s), and gunicorn's own messages. The path is logged
# without its query string (%(U)s, not %(r)s): a search for a child puts the name there.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss "%(a)s"'


def on_starting(server):
    problem = limiter_problem(os.environ, server.cfg.workers)
    if problem:
        server.log.error("Refusing to start: %s", problem)
        sys.exit(1)
