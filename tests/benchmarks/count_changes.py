"""How a bed-count change holds up under load, beside a bare Flask endpoint (the floor) under
the same gunicorn. Prints numbers; asserts nothing.

    .venv/bin/python -m tests.benchmarks.count_changes                # 32 clients, 20 s each
    .venv/bin/python -m tests.benchmarks.count_changes --seconds 60 --clients 64

In a schema of its own on the PostgreSQL at 127.0.0.1:5432 (or TEST_DATABASE_URL) it makes one
pool and one member of shelter staff per client, signs each in, and lets wrk's clients (one
connection each) press +1 and −1 on their own pool's occupied count, as the row's buttons do
(an htmx POST to /shelters/<id>/pools/<id>/adjust), each sending the version the last answer
showed. So the pools never conflict, and what the changes share is the server, the database
and the audit chain, which every change appends to. The floor is a Flask app with one route
that answers "ok" (tests/benchmarks/floor.py, national.py's), under gunicorn with the same
gunicorn.conf.py and workers (2 by default).

It prints, for each: requests a second, latency p50/p90/p99, and answers that were not 2xx;
then the count change against the floor, the SQL statements of one change (counted in the
app as tests/beds/test_statement_counts.py does), and whether the audit trail and the
counts still verify after the run (verify-audit, check-integrity).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db

from ..conftest import AUDIT_KEY, CHEAP_HASH_METHOD, PASSWORD, _drop_schema, _own_schema, make_app
from .soak import AppServer, server_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CAPACITY = 1000  # room enough that +1 never fills a pool during a run (the client alternates)

WRK_SCRIPT = r"""
-- One connection per thread: each thread is one member of staff on their own pool.
local clients = %(clients)s
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("me", counter)
end
function init(args)
  me = clients[me]
  version = me.version
  delta = 1
end
function request()
  local body = "csrf_token=" .. me.token .. "&version=" .. version .. "&field=occupied&delta=" .. delta
  return wrk.format("POST", me.path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = me.cookie, ["HX-Request"] = "true", ["HX-Request-Type"] = "partial",
    ["Accept-Language"] = "en"}, body)
end
function response(status, headers, body)
  local v = body:match('name="version" value="(%%d+)"')
  if v then version = tonumber(v) end
  if status == 200 then delta = -delta end
end
"""


def build_world(base_url: str, clients: int):
    """A region, one shelter organization with a shelter per 4 pools, and one member of staff
    per pool."""
    url, schema = _own_schema(base_url)
    if schema is None:
        raise SystemExit(f"The benchmark needs PostgreSQL; got {base_url}")
    try:
        app = make_app(url)
        with app.app_context():
            upgrade()
            region = Region(code="CB", name="Count bench region")
            org = Organization(name="Count bench NGO", kind="ngo", region=region)
            password_hash = generate_password_hash(PASSWORD, method=CHEAP_HASH_METHOD)
            people = []
            for i in range(clients):
                if i % 4 == 0:
                    shelter = Shelter(organization=org, region=region, name=f"Bench shelter {i // 4}",
                                      address="", languages=[], services=[])
                pool = BedPool(shelter=shelter, label=f"Pool {i}", capacity=CAPACITY, occupied=CAPACITY // 2,
                               out_of_service=0, held=0, version=1)
                user = User(email=f"staff{i}@count-bench.test", name=f"Staff {i}", role="shelter_staff",
                            organization=org, password_hash=password_hash, locale="en")
                db.session.add_all([pool, user])
                people.append((user, pool))
            db.session.commit()
            people = [(user.email, pool.shelter_id, pool.id) for user, pool in people]
            db.engine.dispose()
    except BaseException:
        _drop_schema(base_url, schema)
        raise
    return url, schema, people


def sign_in(server_url: str, email: str, shelter_id: int, pool_id: int) -> dict:
    """Sign in as a browser would; the session cookie and the form token the pool's row carries."""
    jar = CookieJar()
    browser = build_opener(HTTPCookieProcessor(jar))
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"',
                      browser.open(server_url + "/login").read().decode()).group(1)
    browser.open(Request(server_url + "/login", data=urlencode(
        {"email": email, "password": PASSWORD, "csrf_token": token}).encode()))
    page = browser.open(f"{server_url}/shelters/{shelter_id}").read().decode()
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
    version = int(re.search(rf'id="pool-{pool_id}".*?name="version" value="(\d+)"', page, re.S).group(1))
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return {"cookie": cookie, "token": token, "version": version,
            "path": f"/shelters/{shelter_id}/pools/{pool_id}/adjust"}


def lua(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a Lua string for these characters
    return str(value)


def wrk(url: str, clients: int, seconds: float, script: Path | None = None) -> dict:
    command = ["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{seconds:g}s", "--latency", "--timeout", "30s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(output: str) -> dict:
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "requests": requests,
            "p50": latency["50"], "p90": latency["90"], "p99": latency["99"],
            "not_2xx": int(failed.group(1)) if failed else 0, "socket_errors": errors.group(1) if errors else "",
            "raw": output}


def statements_of_one_change(url: str) -> list[str]:
    """One +1 through the app in this process: the SQL statements it sent."""
    from sqlalchemy import event

    from ..conftest import Client

    app = make_app(url)
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.role == "shelter_staff").order_by(User.id)).first()
        pool = db.session.scalars(db.select(BedPool).order_by(BedPool.id)).first()
        client = Client(app)
        client.login(user.email)
        client.csrf_token()
        path, form = (f"/shelters/{pool.shelter_id}/pools/{pool.id}/adjust",
                      {"version": pool.version, "field": "occupied", "delta": 1, "csrf_token": client.csrf_token()})
        db.session.commit()  # what the client would do first, before the counting starts
        counted = []
        def listener(conn, cursor, statement, *_):
            counted.append(" ".join(statement.split()))

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = client.post(path, form, htmx=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert response.status_code == 200, response.status_code
        db.session.remove()
        db.engine.dispose()
    return counted


def check(server: AppServer, command: str) -> str:
    result = subprocess.run([str(BIN / "flask"), "--app", "app", command], cwd=ROOT, env=server.env,
                            capture_output=True, text=True)
    return "clean" if result.returncode == 0 else f"FAILED ({result.returncode}): {result.stdout[-500:]}{result.stderr[-500:]}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker, for both servers (gunicorn's gthread worker when above 1)")
    parser.add_argument("--show-statements", action="store_true", help="list the statements of one change")
    parser.add_argument("--statements-only", action="store_true", help="count them, and measure nothing")
    options = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    base_url = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    url, schema, people = build_world(base_url, options.clients)
    logs = Path(tempfile.mkdtemp(prefix="count-bench-"))
    env = server_env(url, "count-bench-secret", hold_seconds=48 * 3600)
    env.update({"WEB_CONCURRENCY": str(options.workers), "AUDIT_KEY": AUDIT_KEY, "LOG_LEVEL": "warning",
                # gunicorn reads its command line from here too, after gunicorn.conf.py
                "GUNICORN_CMD_ARGS": f"--threads {options.threads}"})
    results = {}
    try:
        statements = statements_of_one_change(url)
        if options.statements_only:
            print("".join(f"  {statement[:160]}\n" for statement in statements), end="")
            print(f"SQL statements of one count change: {len(statements)}")
            return
        floor_server = FloorServer("floor", env, logs, options.workers)
        floor_server.start()
        try:
            floor_server.wait_until_healthy()
            wrk(floor_server.url + "/", options.clients, 3)  # warm up
            results["floor"] = wrk(floor_server.url + "/", options.clients, options.seconds)
        finally:
            floor_server.stop()
        server = AppServer("app", env, logs, options.workers)
        server.start()
        try:
            server.wait_until_healthy()
            clients = [sign_in(server.url, *person) for person in people]
            script = logs / "count_changes.lua"
            script.write_text(WRK_SCRIPT % {"clients": lua(clients)})
            results["count change"] = wrk(server.url, options.clients, options.seconds, script)
        finally:
            server.stop()
        audit, integrity = check(server, "verify-audit"), check(server, "check-integrity")
    finally:
        _drop_schema(base_url, schema)
    floor_result, change = results["floor"], results["count change"]
    print(f"\n{options.clients} clients, {options.seconds:g} s each, gunicorn with {options.workers} workers "
          f"of {options.threads} thread(s), "
          f"PostgreSQL (logs in {logs})")
    print(f"{'':14} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'not 2xx':>8}")
    for name, r in results.items():
        print(f"{name:14} {r['rps']:8.1f} {r['p50']:8.2f} {r['p90']:8.2f} {r['p99']:8.2f} {r['not_2xx']:8d}"
              + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else ""))
    print(f"count change / floor: throughput {change['rps'] / floor_result['rps']:.3f} (aim ≥ 0.1), "
          f"p99 {change['p99'] / floor_result['p99']:.1f}× (aim ≤ 10×)")
    print(f"SQL statements of one count change: {len(statements)}")
    if options.show_statements:
        print("".join(f"  {statement[:160]}\n" for statement in statements), end="")
    print(f"verify-audit: {audit}; check-integrity: {integrity}")


class FloorServer(AppServer):
    """The floor under the same gunicorn: gunicorn.conf.py, the same workers."""

    def start(self) -> None:
        with open(self.output_log, "wb") as output:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "tests.benchmarks.floor:app", "--workers", str(self.workers),
                 "--bind", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access_log),
                 "--error-logfile", str(self.error_log)],
                cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_healthy(self, seconds: float = 60) -> None:
        from urllib.error import URLError

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with build_opener().open(self.url + "/", timeout=5):
                    return
            except (URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"the floor did not answer:\n{self.log_tail()}")


if __name__ == "__main__":
    main()
