"""Serve a whole class from one address: app processes behind HAProxy with sticky sessions.

    python scripts/serve_class.py [--processes 2] [--port 8501] [--address 0.0.0.0]
                                  [--backends lab2:8501,lab3:8501]

One Streamlit process runs every session's Python under one interpreter lock, so it uses about one
core however many the machine has (BENCHMARKS.md, "A class on one server"). This starts
``--processes`` copies of ``streamlit run app.py`` on loopback ports and HAProxy on ``--port`` in
front of them. ``--backends`` adds app processes that already run on other machines (``host:port``
each, comma-separated), so several lab servers serve one class from one address; ``--processes 0``
with ``--backends`` only balances. HAProxy gives each browser a cookie naming its process on the
first request, so the page, its websocket and its images (kept in that process's memory) all come
from the same one; a new browser goes to the process with the fewest connections. HAProxy checks
every process's health every 2 s (every 0.5 s once a check failed) and sends no one to a process
that failed two checks in a row. Needs ``haproxy`` (Debian: ``apt-get install haproxy``). Ctrl-C
stops everything.

A local app process that ends (a crash, a kill) is started again on its port at once, with a line on
stderr; one that ends ``RESTART_LIMIT`` times within ``RESTART_WINDOW_S`` is left stopped, with a line
saying why, and the class goes on on the others. Processes on other machines are theirs to restart.

Settings that cannot work are refused before anything starts, in one line (exit code 2): more
processes than the machine holds (two per core, ~1 GB each), a port out of range or in use, a
backend that is not ``host:port`` or whose host does not resolve; a start that fails names the
process that stopped and the line of its log that says why.

Each process is a separate app: its own caches, its own training-run cap and queue
(``GAN_MAX_CONCURRENT_RUNS`` is per process; this script divides the cap you set among its local
processes), the same ``runs/`` folder on one machine.
"""

from __future__ import annotations

import argparse
import os
import re
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
RESTART_LIMIT = 3  # a local app process that ends this often within RESTART_WINDOW_S is left stopped
RESTART_WINDOW_S = 60.0  # (it fails at start: restarting it again would only spin)
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")


class StartError(Exception):
    """The class servers cannot start; the message is one sentence with the cause."""


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def max_processes() -> int:
    """The most app processes this machine can hold: two per core, and ``APP_PROCESS_MB`` each in memory."""
    memory_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    return max(1, min(PROCESSES_PER_CORE * cores(), memory_mb // APP_PROCESS_MB))


def parse_backends(text: str) -> list[tuple[str, int]]:
    """``"lab2:8501,[fd00::3]:8501"`` as ``[("lab2", 8501), ("[fd00::3]", 8501)]``; ``StartError`` names a bad entry."""
    backends: list[tuple[str, int]] = []
    for entry in (e.strip() for e in text.split(",")):
        host, _, port = entry.rpartition(":")
        name = host[1:-1] if host.startswith("[") and host.endswith("]") else host  # an IPv6 address
        if not (HOST_NAME.fullmatch(name) or (name != host and ":" in name)) or not port.isdigit():
            raise StartError(f"--backends entry {entry!r} is not host:port (for example lab2:8501)")
        if not 1 <= int(port) <= 65535:
            raise StartError(f"--backends entry {entry!r} has a port outside 1 to 65535")
        if (host, int(port)) in backends:
            raise StartError(f"--backends lists {entry!r} twice")
        backends.append((host, int(port)))
    return backends


def is_this_machine(host: str) -> bool:
    """Whether ``host`` is an address of this machine (it can be bound here)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        try:
            s.bind((host, 0))
        except OSError:
            return False
    return True


def check_arguments(processes: int, port: int, address: str, env: dict[str, str],
                    backends: list[tuple[str, int]] = ()) -> None:
    """Refuse, with one sentence (``StartError``), settings that cannot start a class, before starting anything."""
    most = max_processes()
    if not (0 if backends else 1) <= processes <= most:
        raise StartError(f"--processes must be between {0 if backends else 1} and {most} on this machine "
                         f"({cores()} cores, about {APP_PROCESS_MB} MB per process), not {processes}")
    if not 1 <= port <= 65535:
        raise StartError(f"--port must be between 1 and 65535, not {port}")
    for host, backend_port in backends:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host.strip("[]"), backend_port,
                                                                   type=socket.SOCK_STREAM)}
        except OSError as exc:
            raise StartError(f"--backends host {host!r} does not resolve: {exc.strerror or exc}") from None
        if backend_port == port and any(is_this_machine(a) for a in addresses):
            raise StartError(f"--backends entry {host}:{backend_port} is this server's own --port "
                             "(HAProxy would send every request back to itself)")
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


def answers(host: str, port: int) -> bool:
    """Whether the app (or HAProxy) at ``host:port`` answers its health check."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def haproxy_config(address: str, port: int, servers: list[tuple[str, int]], stats_socket: Path) -> str:
    """HAProxy's configuration: ``address:port`` in front of the app processes at ``servers`` (host, port).

    ``cookie ... insert`` pins a browser to one process (the websocket, the page and its media
    files must meet the same process); ``leastconn`` sends a new browser to the least busy one;
    ``timeout tunnel`` keeps an idle websocket (a student reading) open for a lecture. Each process's
    health is checked every 2 s, every 0.5 s once a check failed (``fastinter``), so a dead one is
    out within ~2.5 s (``fall 2``: one slow answer from a busy process does not move its students;
    ``timeout check`` gives it 5 s) and back at its first good answer. A request whose process
    refuses it or ends before answering is sent again, to another process (``retry-on``,
    ``redispatch``): a process being restarted costs its students a reconnect, not an error. ``stats_socket``
    answers ``show stat`` (each process's state) for the administrator and the tests.
    """
    lines = "\n".join(f"    server app{i} {host}:{p} cookie app{i}" for i, (host, p) in enumerate(servers))
    return f"""global
    maxconn 4096
    stats socket {stats_socket} mode 600 level user

defaults
    mode http
    retries 3
    retry-on conn-failure empty-response
    option redispatch
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 4h
    timeout check 5s

frontend class
    bind {address}:{port}
    default_backend app

backend app
    balance leastconn
    cookie {COOKIE} insert indirect nocache
    option httpchk GET /_stcore/health
    default-server check inter 2s fastinter 500ms fall 2 rise 1
{lines}
"""


def server_states(stats_socket: Path) -> dict[str, str]:
    """Each app process's state as HAProxy sees it (``{"app0": "UP", "app1": "DOWN", ...}``), from its stats socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(stats_socket))
        s.sendall(b"show stat\n")
        rows = s.makefile().read().splitlines()
    fields = rows[0].lstrip("# ").split(",")
    return {row["svname"]: row["status"] for row in (dict(zip(fields, r.split(","))) for r in rows[1:] if r)
            if row["pxname"] == "app" and row["svname"] != "BACKEND"}


def ended(code: int) -> str:
    """How a process ended, for a person: ``exit code 1`` or ``killed by SIGKILL``."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:  # a real-time signal has no name
        return f"killed by signal {-code}"


class ClassServers:
    """``processes`` local app processes, ``backends`` (host, port) app processes elsewhere, and HAProxy
    in front of them all (``url``); ``restart_ended()`` restarts a local one that ended; ``stop()`` ends all."""

    def __init__(self, processes: int = 2, port: int | None = None, address: str = "127.0.0.1",
                 log_dir: Path | None = None, extra_env: dict[str, str] | None = None,
                 backends: list[tuple[str, int]] = ()):
        if shutil.which("haproxy") is None:
            raise StartError("haproxy is not installed (Debian: apt-get install haproxy)")
        if processes < (0 if backends else 1):
            raise StartError(f"processes must be at least 1, not {processes}")
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="gan-class-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.local_ports = [free_port() for _ in range(processes)]
        self.remote = list(backends)
        self.servers = [*(("127.0.0.1", p) for p in self.local_ports), *self.remote]  # app{i} is servers[i]
        # one XSRF secret for all (Streamlit takes it only from the environment or a config file); the
        # administrator sets the same one on the other machines' processes
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        self.env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(16))
        if "GAN_MAX_CONCURRENT_RUNS" in self.env and processes:  # the cap, shared out among the local processes
            self.env["GAN_MAX_CONCURRENT_RUNS"] = str(max(1, int(self.env["GAN_MAX_CONCURRENT_RUNS"]) // processes))
        self.apps = [self._start_app(i) for i in range(processes)]
        self.ends: list[list[float]] = [[] for _ in range(processes)]  # when each local process ended, recently
        self.left_stopped: set[int] = set()
        self.stats_socket = self.log_dir / "haproxy.sock"
        config = self.log_dir / "haproxy.cfg"
        config.write_text(haproxy_config(address, self.port, self.servers, self.stats_socket))
        with open(self.log_dir / "haproxy.log", "wb") as log:
            self.proxy = subprocess.Popen(["haproxy", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)

    def _start_app(self, i: int) -> subprocess.Popen:
        """Start local app process ``i`` on its port, its output appended to ``app{i}.log``."""
        with open(self.log_dir / f"app{i}.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.port", str(self.local_ports[i]), "--server.address", "127.0.0.1",
                 "--browser.gatherUsageStats", "false"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pids(self) -> list[int]:
        return [a.pid for a in self.apps]

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> list[str]:
        """Wait until the local processes and HAProxy answer; return the other machines' backends that do
        not (yet) answer, as ``host:port`` (HAProxy sends students to them once they do)."""
        deadline = time.monotonic() + timeout

        def wait_for(ready) -> None:
            while not ready():
                if time.monotonic() > deadline or any(p.poll() is not None for p in [*self.apps, self.proxy]):
                    raise StartError(self.start_failure(timeout))
                time.sleep(0.2)

        for port in [*self.local_ports, self.port]:
            wait_for(lambda: answers("127.0.0.1", port))
        silent = [i for i, (host, port) in enumerate(self.servers) if i >= len(self.apps) and not answers(host, port)]
        up = [f"app{i}" for i in range(len(self.servers)) if i not in silent]
        wait_for(lambda: all(server_states(self.stats_socket).get(name) == "UP" for name in up))  # HAProxy's checks
        return [f"{host}:{port}" for host, port in (self.servers[i] for i in silent)]

    def start_failure(self, timeout: float) -> str:
        """Why the start failed, in one line: the first process that ended and the line of its log
        that says why (HAProxy's alert, an app's exception), or which process did not answer."""
        named = [("haproxy", self.proxy, self.log_dir / "haproxy.log"),
                 *((f"app process {i}", a, self.log_dir / f"app{i}.log") for i, a in enumerate(self.apps))]
        for name, process, log in named:
            if process.poll() is not None:
                return (f"{name} stopped ({ended(process.returncode)}): {cause_in_log(log) or 'no message'} "
                        f"(logs in {self.log_dir})")
        return f"the class servers did not answer within {timeout:.0f} s (logs in {self.log_dir})"

    def restart_ended(self) -> list[str]:
        """Start again, on its port, each local app process that ended, unless it ended ``RESTART_LIMIT``
        times within ``RESTART_WINDOW_S``: then leave it stopped (HAProxy's health check has taken it out).
        Returns one line for each process restarted or left stopped."""
        messages = []
        for i, app in enumerate(self.apps):
            if i in self.left_stopped or app.poll() is None:
                continue
            now = time.monotonic()
            self.ends[i] = [t for t in self.ends[i] if now - t < RESTART_WINDOW_S] + [now]
            name = f"app process {i} (port {self.local_ports[i]})"
            if len(self.ends[i]) >= RESTART_LIMIT:
                self.left_stopped.add(i)
                log = self.log_dir / f"app{i}.log"
                cause = ended(app.returncode) + (f": {cause_in_log(log)}" if app.returncode > 0 else "")
                messages.append(f"{name} ended {RESTART_LIMIT} times within {RESTART_WINDOW_S:.0f} s (last: "
                                f"{cause}); it is not started again (log: {log})"
                                + ("; the class goes on on the other processes" if self.serving else ""))
            else:
                self.apps[i] = self._start_app(i)
                messages.append(f"{name} ended ({ended(app.returncode)}); started it again on the same port")
        return messages

    @property
    def serving(self) -> bool:
        """Whether HAProxy runs and has a process to send students to (one running here, or one elsewhere)."""
        return self.proxy.poll() is None and (bool(self.remote) or len(self.left_stopped) < len(self.apps))

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
                    help="app processes on this machine (default: one per core, as many as the memory holds; "
                         "0 with --backends: only balance)")
    ap.add_argument("--port", type=int, default=8501, help="the port students open")
    ap.add_argument("--address", default="0.0.0.0", help="where HAProxy listens (0.0.0.0: the lab network)")
    ap.add_argument("--backends", default="",
                    help="app processes on other machines, host:port comma-separated (lab2:8501,lab3:8501)")
    args = ap.parse_args()
    try:
        backends = parse_backends(args.backends) if args.backends else []
        check_arguments(args.processes, args.port, args.address, dict(os.environ), backends)
        servers = ClassServers(args.processes, args.port, args.address, backends=backends)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for silent in servers.wait_healthy():
            print(f"warning: {silent} does not answer yet; HAProxy sends students to it once it does",
                  file=sys.stderr, flush=True)
        print(f"{args.processes} app processes here and {len(backends)} elsewhere "
              f"behind http://{args.address}:{args.port} "
              f"(logs: {servers.log_dir}); Ctrl-C stops", flush=True)
        while servers.serving:
            for message in servers.restart_ended():
                print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)
            time.sleep(0.5)
        print("haproxy ended; stopping" if servers.proxy.poll() is not None else "no app process is left; stopping",
              file=sys.stderr)
        sys.exit(1)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
