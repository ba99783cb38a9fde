"""Several server processes, one sign-in limit: the app under gunicorn with the repository's
gunicorn.conf.py, as it is deployed. A production start whose limiter counts in memory with
more than one worker is refused before any worker starts; with the limit kept in the
machine's Redis (127.0.0.1:6379), attempts spread over the workers are counted once."""
import http.client
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from coordination.config import limiter_problem

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS = "redis://127.0.0.1:6379"
AUDIT_KEY = "serving-test-audit-key-0123456789abcdef"


def _environment(tmp_path: Path, **values) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COORDINATION_", "RATELIMIT_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'serving.sqlite3'}", "SECRET_KEY": "serving-test-secret",
                "AUDIT_KEY": AUDIT_KEY, **values})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "gunicorn"), "app:app", "--workers", str(workers),
                             "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _request(port: int, method: str, path: str, body: str = "", headers: dict | None = None):
    """One request on a connection of its own, so that gunicorn may hand it to any worker."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie") or "", response.read().decode()
    finally:
        connection.close()


def _wait_until_up(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            if _request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not answer /healthz within 30 s")


def test_the_rule_refuses_only_a_production_memory_limiter_with_several_workers():
    production = {"COORDINATION_ENV": "production"}
    assert "Redis" in limiter_problem(production, workers=4)
    assert "memory://" in limiter_problem({**production, "RATELIMIT_STORAGE_URI": "memory://"}, workers=2)
    assert limiter_problem(production, workers=1) is None
    assert limiter_problem({**production, "RATELIMIT_STORAGE_URI": REDIS}, workers=4) is None
    assert limiter_problem({"COORDINATION_ENV": "development"}, workers=4) is None


def test_gunicorn_refuses_a_production_start_with_an_in_memory_limit_and_two_workers(tmp_path):
    env = _environment(tmp_path, COORDINATION_ENV="production")
    server = _gunicorn(env, _free_port(), workers=2)
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode != 0
    assert "Refusing to start" in output and "RATELIMIT_STORAGE_URI" in output
    assert "Booting worker" not in output  # refused before any worker started


def test_two_servers_sharing_redis_count_sign_in_attempts_once(tmp_path):
    """Three attempts a minute from one address, eight attempts taken in turn by two servers:
    three are answered, five are refused (with the limit in memory, each would allow three)."""
    env = _environment(tmp_path, LOGIN_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=REDIS,
                       RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}")
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    ports = [_free_port(), _free_port()]
    servers = [_gunicorn(env, port, workers=1) for port in ports]
    try:
        for server, port in zip(servers, ports):
            _wait_until_up(server, port)
        statuses = []
        for attempt in range(8):
            port = ports[attempt % 2]
            _, cookie, page = _request(port, "GET", "/login")
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            status, _, _ = _request(port, "POST", "/login", urlencode(
                {"email": "nobody@example.org", "password": "wrong password", "csrf_token": token}),
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie.split(";")[0]})
            statuses.append(status)
        assert 429 not in statuses[:3] and statuses[3:] == [429] * 5, statuses
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=30)


def test_the_access_log_names_the_path_but_never_the_search_in_it(tmp_path):
    """A caseworker searching /children for a name must not leave the name in the journal."""
    port = _free_port()
    server = _gunicorn(_environment(tmp_path), port, workers=1)
    try:
        _wait_until_up(server, port)
        status, _, _ = _request(port, "GET", "/children?q=Nazrin+Aliyeva")
        assert status == 302  # to the sign-in page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert '"GET /children" 302' in output
    assert "Nazrin" not in output and "Aliyeva" not in output
