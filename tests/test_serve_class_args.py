"""scripts/serve_class.py refuses settings that cannot start a class before starting anything (one
``error:`` line, exit code 2), and a start that fails says why in one line (the process that stopped
and the line of its log with the cause). No class is loaded here: the browser test of a real class
is tests/e2e/test_serve_class.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "serve_class.py"
sys.path.insert(0, str(REPO / "scripts"))
from serve_class import APP_PROCESS_MB, ClassServers, StartError, max_processes, parse_backends  # noqa: E402


@pytest.fixture
def busy_port():
    """A port another server listens on, on every address."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        yield s.getsockname()[1]


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args, env, words", [
    (["--processes", "0"], {}, "--processes must be between 1 and"),
    (["--processes", "-3"], {}, "not -3"),
    (["--processes", "0"], {"GAN_MAX_CONCURRENT_RUNS": "4"}, "--processes must be between 1 and"),  # not a ZeroDivisionError
    (["--processes", "99999999"], {}, "not 99999999"),
    (["--processes", "1", "--port", "99999"], {}, "--port must be between 1 and 65535"),
    (["--processes", "1", "--port", "0"], {}, "--port must be between 1 and 65535"),
    (["--processes", "1", "--port", "8501"], {"GAN_MAX_CONCURRENT_RUNS": "many"}, "GAN_MAX_CONCURRENT_RUNS"),
    (["--processes", "1", "--port", "8501"], {"GAN_MAX_CONCURRENT_RUNS": "0"}, "GAN_MAX_CONCURRENT_RUNS"),
    (["--processes", "1", "--address", "192.0.2.1"], {}, "cannot listen on 192.0.2.1"),  # not this machine's
    (["--backends", "lab2"], {}, "--backends entry 'lab2' is not host:port (for example lab2:8501)"),
    (["--backends", "lab2:8501,"], {}, "--backends entry '' is not host:port"),
    (["--backends", "lab 2:8501"], {}, "--backends entry 'lab 2:8501' is not host:port"),
    (["--backends", "::1:8501"], {}, "is not host:port"),  # an IPv6 address needs its brackets
    (["--backends", "lab2:http"], {}, "is not host:port"),
    (["--backends", "lab2:99999"], {}, "--backends entry 'lab2:99999' has a port outside 1 to 65535"),
    (["--backends", "lab2:8501,lab2:8501"], {}, "--backends lists 'lab2:8501' twice"),
    (["--backends", "nosuchhost.invalid:8501"], {}, "--backends host 'nosuchhost.invalid' does not resolve"),
    (["--backends", "127.0.0.1:8501", "--port", "8501"], {}, "127.0.0.1:8501 is this server's own --port"),
    (["--processes", "0", "--backends", "127.0.0.1:8502", "--port", "99999"], {}, "--port must be"),  # 0 is allowed
])
def test_settings_that_cannot_start_a_class_are_refused_in_one_line(args, env, words):
    result = _serve(*args, env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr


def test_a_backend_list_is_read_in_order():
    assert parse_backends("lab2:8501, lab3.example.org:8502,10.0.0.4:8501,[fd00::5]:8501") == [
        ("lab2", 8501), ("lab3.example.org", 8502), ("10.0.0.4", 8501), ("[fd00::5]", 8501)]


def test_a_port_in_use_is_refused_before_anything_starts(busy_port):
    result = _serve("--processes", "1", "--port", str(busy_port))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"cannot listen on 0.0.0.0:{busy_port}: Address already in use" in result.stderr


def test_the_most_processes_fits_the_machine():
    cores = len(os.sched_getaffinity(0))
    memory_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    assert 1 <= max_processes() <= 2 * cores
    assert max_processes() == 1 or max_processes() * APP_PROCESS_MB <= memory_mb
    assert _serve("--processes", str(max_processes() + 1), "--port", "1").returncode == 2


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (apt-get install haproxy)")
def test_a_failed_start_says_the_cause_from_haproxys_log(tmp_path, busy_port):
    # the port was free when checked and taken before HAProxy bound it: HAProxy's alert is the cause
    servers = ClassServers(1, busy_port, "0.0.0.0", log_dir=tmp_path)
    try:
        with pytest.raises(StartError) as info:
            servers.wait_healthy(timeout=30)
    finally:
        servers.stop()
    message = str(info.value)
    assert message.startswith("haproxy stopped") and "cannot bind socket (Address already in use)" in message
    assert "\n" not in message and str(tmp_path) in message
    assert all(p.poll() is not None for p in [servers.proxy, *servers.apps])  # nothing left running
