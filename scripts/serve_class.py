"""Serve a whole class from one machine: several app processes behind HAProxy with sticky sessions.

    python scripts/serve_class.py [--processes 2] [--port 8501] [--address 0.0.0.0]

One Streamlit process runs every session's Python under one interpreter lock, so it uses about one
core however many the machine has (BENCHMARKS.md, "A class on one server"). This starts
``--processes`` copies of ``streamlit run app.py`` on loopback ports and HAProxy on ``--port`` in
front of them. HAProxy gives each browser a cookie naming its process on the first request, so the
page, its websocket and its images (kept in that process's memory) all come from the same one; a
new browser goes to the process with the fewest connections. Needs ``haproxy`` (Debian:
``apt-get install haproxy``). Ctrl-C stops everything.

Each process is a separate app: its own caches, its own training-run cap and queue
(``GAN_MAX_CONCURRENT_RUNS`` is per process; this script divides the cap you set among the
processes), the same ``runs/`` folder.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COOKIE = "gan_classroom_server"
HEALTH_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_config(address: str, port: int, backends: list[int]) -> str:
    """HAProxy's configuration: ``address:port`` in front of the app processes on ``backends``.

    ``cookie ... insert`` pins a browser to one process (the websocket, the page and its media
    files must meet the same process); ``leastconn`` sends a new browser to the least busy one;
    ``timeout tunnel`` keeps an idle websocket (a student reading) open for a lecture.
    """
    servers = "\n".join(f"    server app{i} 127.0.0.1:{p} cookie app{i} check inter 2s rise 1 fall 3"
                        for i, p in enumerate(backends))
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 4h

frontend class
    bind {address}:{port}
    default_backend app

backend app
    balance leastconn
    cookie {COOKIE} insert indirect nocache
    option httpchk GET /_stcore/health
{servers}
"""


class ClassServers:
    """``processes`` app processes and HAProxy in front of them (``url``); ``stop()`` ends all."""

    def __init__(self, processes: int = 2, port: int | None = None, address: str = "127.0.0.1",
                 log_dir: Path | None = None, extra_env: dict[str, str] | None = None):
        if shutil.which("haproxy") is None:
            raise SystemExit("haproxy is not installed (Debian: apt-get install haproxy)")
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="gan-class-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.backends = [free_port() for _ in range(processes)]
        # one XSRF secret for all (Streamlit takes it only from the environment or a config file)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16),
               **(extra_env or {})}
        if "GAN_MAX_CONCURRENT_RUNS" in env:  # the class's cap, shared out among the processes
            env["GAN_MAX_CONCURRENT_RUNS"] = str(max(1, int(env["GAN_MAX_CONCURRENT_RUNS"]) // processes))
        self.apps: list[subprocess.Popen] = []
        for i, p in enumerate(self.backends):
            log = open(self.log_dir / f"app{i}.log", "wb")
            self.apps.append(subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.port", str(p), "--server.address", "127.0.0.1",
                 "--browser.gatherUsageStats", "false"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
        config = self.log_dir / "haproxy.cfg"
        config.write_text(haproxy_config(address, self.port, self.backends))
        self.proxy = subprocess.Popen(["haproxy", "-f", str(config)], stdout=open(self.log_dir / "haproxy.log", "wb"),
                                      stderr=subprocess.STDOUT)

    @property
    def pids(self) -> list[int]:
        return [a.pid for a in self.apps]

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        for port in [*self.backends, self.port]:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or any(p.poll() is not None for p in [*self.apps, self.proxy]):
                    raise RuntimeError(f"the class servers did not start (logs in {self.log_dir})")
                time.sleep(0.3)
        time.sleep(2.5)  # HAProxy's first health checks (every 2 s) mark the processes up

    def log_tail(self, n: int = 4000) -> str:
        return "".join((self.log_dir / f"app{i}.log").read_text(errors="replace")[-n:] for i in range(len(self.apps)))

    def stop(self) -> None:
        for p in [self.proxy, *self.apps]:
            p.terminate()
        for p in [self.proxy, *self.apps]:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="app processes (default: one per core)")
    ap.add_argument("--port", type=int, default=8501, help="the port students open")
    ap.add_argument("--address", default="0.0.0.0", help="where HAProxy listens (0.0.0.0: the lab network)")
    args = ap.parse_args()
    servers = ClassServers(args.processes, args.port, args.address)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        servers.wait_healthy()
        print(f"{args.processes} app processes behind http://{args.address}:{args.port} "
              f"(logs: {servers.log_dir}); Ctrl-C stops", flush=True)
        while all(p.poll() is None for p in [*servers.apps, servers.proxy]):
            time.sleep(1)
        print("a process ended; stopping", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
