"""scripts/serve_class.py with ``--backends``: app processes on other machines behind the one address.

Two small HTTP servers on loopback ports stand for two lab servers: each answers the health check,
says its name on ``/`` and, on ``/ws``, accepts a websocket upgrade and echoes what it receives with
its name. HAProxy must share new browsers between them, keep a browser (its cookie) on one, carry
its websocket there, and leave out one that does not answer. The real app behind a backend list is
tested in the browser (tests/e2e/test_serve_class.py).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from serve_class import COOKIE, ClassServers, free_port, server_states  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None,
                                reason="haproxy is not installed (apt-get install haproxy)")

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class LabServer:
    """An HTTP server on a loopback port standing for an app process on another machine."""

    def __init__(self, name: str):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
                    accept = base64.b64encode(hashlib.sha1(self.headers["Sec-WebSocket-Key"].encode()
                                                           + WEBSOCKET_GUID).digest()).decode()
                    self.wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
                    self.wfile.flush()
                    while data := self.connection.recv(1024):
                        self.connection.sendall(name.encode() + b":" + data)
                    self.close_connection = True
                    return
                body = b"ok" if self.path == "/_stcore/health" else name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.name = name
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def lab_servers():
    servers = [LabServer("lab-a"), LabServer("lab-b")]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def balancer(lab_servers, tmp_path):
    """HAProxy in front of the two lab servers only (no local app process)."""
    servers = ClassServers(0, log_dir=tmp_path, backends=[("127.0.0.1", s.port) for s in lab_servers])
    try:
        assert servers.wait_healthy(timeout=30) == []  # both answer
        yield servers
    finally:
        servers.stop()


def _get(port: int, path: str = "/", cookie: str | None = None) -> tuple[int, str, str | None]:
    """Status, body and the server cookie HAProxy set, of one request from a browser with ``cookie``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
        response = connection.getresponse()
        body = response.read().decode()
        set_cookie = response.getheader("Set-Cookie") or ""
        pinned = set_cookie.split(";")[0].split("=", 1)[1] if set_cookie.startswith(COOKIE + "=") else None
        return response.status, body, pinned
    finally:
        connection.close()


def test_new_browsers_are_shared_between_the_machines_and_each_is_pinned(balancer, lab_servers):
    answers = [_get(balancer.port) for _ in range(10)]
    assert all(status == 200 for status, _, _ in answers)
    served = Counter(body for _, body, _ in answers)
    assert set(served) == {"lab-a", "lab-b"} and min(served.values()) >= 3, served  # no machine left idle
    # the cookie names the machine that answered: app0 is the first in the list, app1 the second
    assert {(body, pinned) for _, body, pinned in answers} == {("lab-a", "app0"), ("lab-b", "app1")}
    for pinned, name in [("app0", "lab-a"), ("app1", "lab-b")]:  # a pinned browser stays on its machine
        assert [_get(balancer.port, cookie=pinned)[:2] for _ in range(5)] == [(200, name)] * 5


def test_a_websocket_goes_through_to_the_pinned_machine(balancer):
    for pinned, name in [("app0", "lab-a"), ("app1", "lab-b")]:
        with socket.create_connection(("127.0.0.1", balancer.port), timeout=10) as ws:
            key = base64.b64encode(os.urandom(16)).decode()
            ws.sendall((f"GET /ws HTTP/1.1\r\nHost: class\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                        f"Cookie: {COOKIE}={pinned}\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += ws.recv(1024)
            assert head.startswith(b"HTTP/1.1 101"), head
            for message in [b"hello", b"again"]:  # the tunnel stays open both ways
                ws.sendall(message)
                assert ws.recv(1024) == name.encode() + b":" + message


def test_a_machine_that_does_not_answer_is_left_out(lab_servers, tmp_path):
    silent = free_port()  # nothing listens there: a lab server that is off
    servers = ClassServers(0, log_dir=tmp_path, backends=[("127.0.0.1", lab_servers[0].port), ("127.0.0.1", silent)])
    try:
        assert servers.wait_healthy(timeout=30) == [f"127.0.0.1:{silent}"]
        deadline = time.monotonic() + 15  # two failed checks: ~2.5 s
        while server_states(servers.stats_socket) != {"app0": "UP", "app1": "DOWN"}:  # HAProxy's health check
            assert time.monotonic() < deadline, server_states(servers.stats_socket)
            time.sleep(0.2)
        assert [_get(servers.port)[:2] for _ in range(4)] == [(200, "lab-a")] * 4
        assert _get(servers.port, cookie="app1")[:3] == (200, "lab-a", "app0")  # its browsers move
    finally:
        servers.stop()
    assert all(p.poll() is not None for p in [servers.proxy, *servers.apps])


def test_the_command_serves_a_backend_list(lab_servers, tmp_path):
    port, silent = free_port(), free_port()  # silent: a lab server that is off
    backends = ",".join(f"127.0.0.1:{p}" for p in [lab_servers[0].port, silent, lab_servers[1].port])
    serve = subprocess.Popen([sys.executable, str(REPO / "scripts" / "serve_class.py"),
                              "--processes", "0", "--backends", backends,
                              "--port", str(port), "--address", "127.0.0.1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                             env={**os.environ, "TMPDIR": str(tmp_path)})  # its logs there
    try:
        ready = serve.stdout.readline()
        assert ready.startswith(f"0 app processes here and 3 elsewhere behind http://127.0.0.1:{port}"), \
            ready + serve.stderr.read()
        assert {_get(port)[1] for _ in range(4)} == {"lab-a", "lab-b"}
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(15) == 0
        assert serve.stderr.read() == (f"warning: 127.0.0.1:{silent} does not answer yet; HAProxy sends students "
                                       "to it once it does\n")
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)  # the command and its HAProxy
            serve.wait()
