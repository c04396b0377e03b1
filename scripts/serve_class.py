"""Serve a whole class from one machine: several app processes behind HAProxy with sticky sessions.

    python scripts/serve_class.py [--processes 2] [--port 8501] [--address 0.0.0.0]

One Streamlit process runs every session's Python under one interpreter lock, so it uses about one
core however many the machine has (BENCHMARKS.md, "A class on one server"). This starts
``--processes`` copies of ``streamlit run app.py`` on loopback ports and HAProxy on ``--port`` in
front of them. HAProxy gives each browser a cookie naming its process on the first request, so the
page, its websocket and its images (kept in that process's memory) all come from the same one; a
new browser goes to the process with the fewest connections. Needs ``haproxy`` (Debian:
``apt-get install haproxy``). Ctrl-C stops everything.

Settings that cannot work are refused before anything starts, in one line (exit code 2): more
processes than the machine holds (two per core, ~1 GB each), a port out of range or in use; a start
that fails names the process that stopped and the line of its log that says why.

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
APP_PROCESS_MB = 1000  # one app process after a class's visits: ~0.9 GB RSS (BENCHMARKS.md, "A class on one server")
PROCESSES_PER_CORE = 2  # one per core serves best; more only adds memory and contention


class StartError(Exception):
    """The class servers cannot start; the message is one sentence with the cause."""


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def max_processes() -> int:
    """The most app processes this machine can hold: two per core, and ``APP_PROCESS_MB`` each in memory."""
    memory_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    return max(1, min(PROCESSES_PER_CORE * cores(), memory_mb // APP_PROCESS_MB))


def check_arguments(processes: int, port: int, address: str, env: dict[str, str]) -> None:
    """Refuse, with one sentence (``StartError``), settings that cannot start a class, before starting anything."""
    most = max_processes()
    if not 1 <= processes <= most:
        raise StartError(f"--processes must be between 1 and {most} on this machine ({cores()} cores, "
                         f"about {APP_PROCESS_MB} MB per process), not {processes}")
    if not 1 <= port <= 65535:
        raise StartError(f"--port must be between 1 and 65535, not {port}")
    runs = env.get("GAN_MAX_CONCURRENT_RUNS")
    if runs is not None and not (runs.strip().isdigit() and int(runs) >= 1):
        raise StartError(f"GAN_MAX_CONCURRENT_RUNS must be a whole number of at least 1, not {runs!r}")
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HAProxy binds: a closed port in TIME_WAIT is free
        try:
            s.bind((address, port))
        except OSError as exc:
            raise StartError(f"cannot listen on {address}:{port}: {exc.strerror or exc} "
                             "(another server on that port, a port below 1024 without root, "
                             "or an address this machine does not have)") from None


def cause_in_log(path: Path) -> str:
    """The line of a process's log that says why it stopped: HAProxy's first alert (the later ones
    follow from it) without its prefix, else the last line (an app's exception)."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    alerts = [line.split(" : ", 1)[-1] for line in lines if line.startswith("[ALERT]")]
    return alerts[0] if alerts else (lines or [""])[-1]


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
            raise StartError("haproxy is not installed (Debian: apt-get install haproxy)")
        if processes < 1:
            raise StartError(f"processes must be at least 1, not {processes}")
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
                    raise StartError(self.start_failure(timeout))
                time.sleep(0.3)
        time.sleep(2.5)  # HAProxy's first health checks (every 2 s) mark the processes up

    def start_failure(self, timeout: float) -> str:
        """Why the start failed, in one line: the first process that ended and the line of its log
        that says why (HAProxy's alert, an app's exception), or which process did not answer."""
        named = [("haproxy", self.proxy, self.log_dir / "haproxy.log"),
                 *((f"app process {i}", a, self.log_dir / f"app{i}.log") for i, a in enumerate(self.apps))]
        for name, process, log in named:
            if process.poll() is not None:
                return (f"{name} stopped (exit code {process.returncode}): {cause_in_log(log) or 'no message'} "
                        f"(logs in {self.log_dir})")
        return f"the class servers did not answer within {timeout:.0f} s (logs in {self.log_dir})"

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
    ap.add_argument("--processes", type=int, default=min(cores(), max_processes()),
                    help="app processes (default: one per core, as many as the memory holds)")
    ap.add_argument("--port", type=int, default=8501, help="the port students open")
    ap.add_argument("--address", default="0.0.0.0", help="where HAProxy listens (0.0.0.0: the lab network)")
    args = ap.parse_args()
    try:
        check_arguments(args.processes, args.port, args.address, dict(os.environ))
        servers = ClassServers(args.processes, args.port, args.address)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        servers.wait_healthy()
        print(f"{args.processes} app processes behind http://{args.address}:{args.port} "
              f"(logs: {servers.log_dir}); Ctrl-C stops", flush=True)
        while all(p.poll() is None for p in [*servers.apps, servers.proxy]):
            time.sleep(1)
        print("a process ended; stopping", file=sys.stderr)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
