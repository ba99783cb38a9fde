"""The floor for tests/benchmarks/national.py: a bare Flask app with one route that answers a
short text. Served by gunicorn with the app's own gunicorn.conf.py and as many workers, it
shows what the server, the loopback and wrk cost before the app does anything.

    gunicorn -c gunicorn.conf.py tests.benchmarks.floor:app
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def floor():
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
