"""Fixtures for the browser end-to-end tests: a real ``streamlit run app.py`` and headless Chromium.

The server runs once per test session on a free loopback port, with its own runs folder and a
short orphan timeout (so a closed browser tab frees its training slot quickly). Each test gets a
fresh browser context (its own Streamlit session). When a test fails, the tail of the server log
is attached to the report and a screenshot is saved under ``test-output/``.
"""

from __future__ import annotations

import contextlib
import re
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from st_browser import ORPHAN_TIMEOUT_S, OUTPUT_DIR, REPO, safe_name

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEALTH_TIMEOUT_S = 60


def chromium_path() -> str | None:
    """The Chromium binary, or None. Outside CI a missing browser skips; in CI it fails."""
    found = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if found is None and not os.environ.get("CI"):
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped outside CI")
    if found is None:
        pytest.fail("Chromium is not installed, and browser tests must run in CI (apt-get install chromium)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """A ``streamlit run app.py`` subprocess on a loopback port."""

    def __init__(self, runs_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.runs_dir = runs_dir
        env = {**os.environ, "GAN_RUNS_DIR": str(runs_dir), "GAN_ORPHAN_TIMEOUT": str(ORPHAN_TIMEOUT_S),
               "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        self._log = open(log_path, "wb")
        # python -m streamlit so that self.process.pid is the server itself (for /proc figures)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy within {timeout} s:\n{self.log_tail()}")

    def proc_status(self) -> dict[str, int]:
        """The server's resident memory (kB) and thread count, from /proc (Linux)."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                fields[key] = int(value.split()[0])
        return {"rss_kb": fields["VmRSS"], "threads": fields["Threads"]}

    def pruned_threads(self) -> int:
        """The thread count after asking the web server to prune its idle worker threads.

        Uvicorn serves files from an AnyIO thread pool that grows under load; a worker idle for
        10 s or more ends only when the pool is next used, so fetch a static file first.
        """
        try:
            urllib.request.urlopen(f"{self.url}/", timeout=10).read()
        except OSError:
            pass
        time.sleep(0.3)
        return self.proc_status()["threads"]

    def settled_threads(self, seconds: float = 12.0) -> int:
        """The smallest pruned thread count seen over ``seconds`` (long enough for idle workers to expire)."""
        deadline, smallest = time.monotonic() + seconds, self.pruned_threads()
        while time.monotonic() < deadline:
            time.sleep(1.0)
            smallest = min(smallest, self.pruned_threads())
        return smallest

    def log_tail(self, chars: int = 6000) -> str:
        self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


_SERVERS: list[StreamlitServer] = []


@contextlib.contextmanager
def app_page(height: int = 1000, extra_env: dict[str, str] | None = None):
    """A fresh ``streamlit run app.py`` (with ``extra_env`` added to its environment) and a headless
    Chromium page showing it (width 1400); yields the page, with the server as ``page.app_server`` (its
    ``pid`` for CPU figures).

    For the measurement scripts (scripts/bench_*_browser.py); the tests use the fixtures below.
    """
    from playwright.sync_api import sync_playwright

    from st_browser import wait_for_app

    with tempfile.TemporaryDirectory() as tmp:
        server = StreamlitServer(Path(tmp) / "runs", Path(tmp) / "server.log", extra_env=extra_env)
        try:
            server.wait_healthy()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1400, "height": height})
                    page.goto(server.url)
                    wait_for_app(page)
                    page.app_server = server
                    yield page
                finally:
                    browser.close()
        finally:
            server.stop()


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    return chromium_path()


@contextlib.contextmanager
def running_server(runs_dir: Path, log_name: str, extra_env: dict[str, str] | None = None):
    """A healthy ``StreamlitServer`` (its log ``test-output/<log_name>``), stopped afterwards: the session's,
    or a module's own when it needs its own environment (``extra_env``)."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    srv = StreamlitServer(runs_dir, OUTPUT_DIR / log_name, extra_env=extra_env)
    _SERVERS.append(srv)
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()
        _SERVERS.remove(srv)


@pytest.fixture(scope="session")
def server(chromium_executable, tmp_path_factory) -> StreamlitServer:
    """The app under test (one per session); yields the running server (``.url``, ``.pid``)."""
    with running_server(tmp_path_factory.mktemp("runs"), "streamlit-server.log") as srv:
        yield srv


@pytest.fixture(scope="session")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_context(browser):
    """A factory of fresh browser contexts (each one is a separate Streamlit session)."""
    contexts = []

    def make():
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        try:
            ctx.close()
        except Exception:  # noqa: BLE001 -- already closed by the test
            pass


@pytest.fixture
def page(request, new_context, server):
    """A page in a fresh session, opened on the app's home page; screenshot saved on failure."""
    from st_browser import wait_for_app

    pg = new_context().new_page()
    pg.goto(server.url)
    wait_for_app(pg)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not pg.is_closed():
        try:
            pg.screenshot(path=str(OUTPUT_DIR / f"FAILED-{safe_name(request.node.name)}.png"), full_page=True)
        except Exception:  # noqa: BLE001 -- best effort
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.failed and _SERVERS:
        report.sections.append(("streamlit server log (tail)", _SERVERS[-1].log_tail()))


# A line of the server log that means something went wrong: Streamlit's own warnings (e.g. a widget
# "created with a default value but also had its value set via the Session State API"), errors,
# and uncaught tracebacks.
_LOG_PROBLEM = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) |^Traceback \(most recent call last\)", re.M)


@pytest.fixture(autouse=True)
def no_warnings_in_the_server_log(request):
    """Fail any browser test during which the server logged a warning, an error or a traceback."""
    if "server" not in request.fixturenames:
        yield
        return
    srv = request.getfixturevalue("server")
    srv._log.flush()
    start = srv.log_path.stat().st_size
    yield
    srv._log.flush()
    with open(srv.log_path, "rb") as f:
        f.seek(start)
        new = f.read().decode("utf-8", errors="replace")
    found = [m.group(0) for m in _LOG_PROBLEM.finditer(new)]
    if found:
        pytest.fail(f"the server logged {len(found)} warning(s)/error(s) during this test:\n{new[-4000:]}")
