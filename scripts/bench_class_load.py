"""A class on one server (issue 18, part 2): N simulated students against one ``streamlit run app.py``;
with ``--soak``, a whole lecture on it, measured window by window (issue 30, part 2).

    python scripts/bench_class_load.py [--sessions 10 20 30 40] [--seconds 30] [--warmup 10]
                                       [--train] [--processes 2] [--distinct-seeds]
                                       [--url http://127.0.0.1:8501 --server-pid PID [PID ...]]
    python scripts/bench_class_load.py --soak MINUTES [--sessions 30] [--processes 2] [--window-minutes 5]
                                       [--join-minutes 5] [--trainers 3] [--csv soak.csv] [--plot soak.png]

A protocol-level load generator: no browsers. Each student is one websocket session on
``/_stcore/stream`` speaking Streamlit's own protocol (``streamlit.proto``: BackMsg up, ForwardMsg
down), all of them in one asyncio process, so the client costs little next to the server (its own CPU
seconds are measured and reported apart from the server's). What a student does, as the browser
would do it:

* connect as the frontend does: GET ``/_stcore/health`` (which sets the ``_streamlit_xsrf``
  cookie) and ``/_stcore/host-config``, then open the websocket with the subprotocols
  ``["streamlit", <xsrf cookie>]`` and the cookie, and send the first ``rerun_script`` with the
  page's URL path as ``page_name`` (``page_script_hash`` empty, as for a direct link), the query
  string and the browser's context (locale en-US, timezone UTC);
* afterwards every rerun names the page by the ``page_script_hash`` of the ``navigation`` message
  (in an ``st.navigation`` app ``new_session`` carries app.py's hash: asking for that one runs an
  empty page) and carries the query string the app last set (``page_info_changed``), the widget values this
  student has set (a slider is a ``double_array_value``, a button click a one-off
  ``trigger_value``; a click on a widget inside an ``st.fragment`` reruns that fragment:
  ``fragment_id`` of the widget's delta) and the hashes of the big messages it has cached (the
  frontend's ForwardMsg cache: the server then sends a ``ref_hash`` instead, resolved here);
* ``st.fragment(run_every=...)`` timers live in the browser: the server sends ``auto_rerun``
  (interval, fragment id) and the client sends ``rerun_script`` with that ``fragment_id`` and
  ``is_auto_rerun`` on a fixed-rate timer (like the frontend's ``setInterval``: it does not wait for
  the previous run) until ``stop_auto_rerun`` or a full run's ``new_session`` clears the timers;
* image elements name a ``/media/...`` URL that the browser then downloads; the client does too.

The mix (per N): 80% on "Explore the latent space" (views/latent.py, section "Move z") moving the
"Direction 1" slider to a new value every 0.5-2 s (think time after the image came back); the time
from sending the value to the new main image's delta ("G(z), ‖z‖ = ...") is *slider-to-image*
(also reported: to ``script_finished`` and to the downloaded PNG); no image within 10 s is a
timeout. 20% on "Distributions in 1-D", tab "Train a 1-D GAN" (``?tab=train``), pressing Play:
the frames a student sees are the changes of the "After N D steps" caption it receives
(``play_captions_changed_per_s_mean``); also reported: the completed runs of the Play fragment
(``run_every=0.07``) per session (``play_frames_per_s``: a run whose ``script_finished`` arrives
as ``FINISHED_EARLY_FOR_RERUN`` because the next run had started is not counted, though its
deltas may have been sent, as they are since Play rests after a frame on a busy server,
views/_play.py).
``--train`` adds one student on the training page pressing Start (``?steps=1000000``) and reads
the page's "Images / s" metric (pressing Stop when the round ends).

Per N: students connect (a few ms apart) and load their page, ``--warmup`` seconds of activity,
then ``--seconds`` of measurement, then every student leaves (closes the websocket) and the server's
memory is read again ``--after`` seconds later. Server CPU (cores used on average) comes from
``/proc/PID/stat``, its memory from ``/proc/PID/status`` (RSS before, peak during, after). Any
exception element, ``st.error`` box or dropped connection is counted (with the first text). The
server is started once (``python -m streamlit run app.py`` on a free loopback port: the browser
tests' ``StreamlitServer`` from tests/e2e/conftest.py) and serves every N in turn, like one class
day; ``--processes 2`` starts the class deployment instead (scripts/serve_class.py: two app
processes behind HAProxy with sticky sessions; CPU, memory and threads are the processes' sums);
with ``--url`` an already running server is used (``--server-pid`` for its CPU and memory).
All latent students open the page on its default seed (a class following the lecture: the same
pictures, which the page shares across sessions); ``--distinct-seeds`` gives each its own.
Prints JSON (each round's result also goes to stderr as it finishes).

**The soak** (``--soak MINUTES``): one lecture instead of rounds. ``--sessions`` students (one
number) join spread over ``--join-minutes``; ``--trainers`` of them use the training page, the
others the mix above (80% latent slider, 20% 1-D Play). A stay on a page lasts 0.5-1.5 times
``--stay-minutes``; it ends in a reload (``--reload-share``: a new session on the same page at
once) or the student leaves and comes back 0.5-1.5 times ``--away-minutes`` later (a new session).
A trainer's visit (``?preset=small&steps=3000``, a new browser each time): Start, wait until the
page's progress bar shows the steps growing (a wait in the server's queue included), watch, Pause
(the steps must stand still), "Save checkpoint" (the page must say it saved), Resume (the steps
grow again), watch, then close the tab without Stop (the run is abandoned: the server ends it after
``GAN_ORPHAN_TIMEOUT``, ``--orphan-timeout``) and come back after ``--away-minutes`` to start
again. The servers run with their runs folder in a temporary folder and ``GAN_MAX_RUNS_MB`` set to
``--runs-quota-mb``; every other ``GAN_*`` limit comes from the environment (e.g.
``GAN_MAX_CONCURRENT_RUNS``: by default one run per process, so a trainer may wait in the server's
queue, e.g. behind an abandoned run until its orphan timeout; ``GAN_MAX_CONCURRENT_RUNS=4`` with two
processes lets all three train at once). A run whose steps do not grow within 10 minutes of Start is
an error.

Reported per ``--window-minutes`` window (JSON ``windows``; ``--csv`` the same rows, ``--plot`` one
PNG through scripts/plot_soak.py): slider-to-image p50/p95/max of the moves sent in it, timeouts,
Play frames/s and captions changed/s per playing student, errors (count, first text), what the
students did (joins, reloads, leaves, returns, a trainer's start/running/pause/resume/abandon), the
longest wait from Start to a run's steps growing (``train_start_wait_max_s``), and
every 5 s read from /proc: each app process's RSS, the RSS summed over all its descendant processes
(training runs in child processes) and their number, the cores used by each process with its live
descendants, and the runs folder's size (as gan_core.runs_quota measures it) and run folders. The
trainers' visits are listed (``trainer_visits``). Then the goals, printed PASS/FAIL on stderr and in
``goals``: slider-to-image p95 <= 1 s in every window; no error (no error element, dropped
connection, failed trainer action, slider timeout, or warning/error in the server logs); RSS flat: the
app processes' RSS at the end of the last window at most 5% above their RSS at minute 10 (the end of
the first window that reaches it; half the soak when it is shorter than 20 minutes), their
descendants' too in the text; disk
bounded: the runs folder never more than its quota plus one run folder (a save may pass the quota by
one checkpoint).

The lecture (BENCHMARKS.md; a benchmark, not a test: 90 minutes on the whole machine)::

    python scripts/bench_class_load.py --soak 90 --sessions 30 --processes 2 --join-minutes 5 \
        --window-minutes 5 --csv soak-90.csv --plot soak-90.png > soak-90.json

A 5-minute check that it works (students come and go faster)::

    python scripts/bench_class_load.py --soak 5 --window-minutes 1 --processes 2 --sessions 30 \
        --trainers 3 --join-minutes 1 --stay-minutes 2 --away-minutes 1 --trainer-minutes 1 \
        --csv soak-5.csv --plot soak-5.png > soak-5.json

Its 3-minute version in the test suite (8 students, one trainer, one app process):
``python -m pytest -q tests/test_class_soak.py``.

A process dies during the lecture (issue 30, item 4): ``--kill-at MINUTES`` (with ``--processes 2`` or
more) kills app process 0 with SIGKILL at that minute, as a crash or the kernel's out-of-memory killer
would, while this script restarts an ended process as ``serve_class.py`` does (every 0.5 s). Its students'
connections close; each reconnects a second later, as the browser's page does, and HAProxy sends it to
a live process: a connection closed within ``KILL_GRACE_S`` of the kill counts as *dropped*, not as an
error, and the student's next session is a *reconnect*. The report's ``kill`` part says when HAProxy
marked the process DOWN and UP again, when it was restarted, how many sessions it dropped, how long
they took to load a page again, and the trainers' runs kept for them (``rescued.json`` in the runs
folder, gan_core.rescue)::

    python scripts/bench_class_load.py --soak 90 --sessions 30 --processes 2 --kill-at 45 \
        --csv soak-kill.csv --plot soak-kill.png > soak-kill.json
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.append(str(REPO))  # gan_core

from conftest import StreamlitServer  # noqa: E402  (the browser tests' server: a free loopback port)
from serve_class import COOKIE, ClassServers, server_states  # noqa: E402  (several processes behind HAProxy)

from gan_core.runs_quota import measure as measure_runs  # noqa: E402  (the runs folder's size, as the quota counts it)

ANSWER_TIMEOUT_S = 10.0  # a slider move with no new image within this is a timeout
KILL_GRACE_S = 30.0  # a connection closed this soon after --kill-at's kill is dropped by it, not an error
KILLED_AT: list[float] = []  # time.monotonic() of each kill of an app process (--kill-at)
RECONNECT_S = 1.0  # a browser's page reconnects about this long after its connection closed
LOAD_TIMEOUT_S = 60.0  # a page's first run
SLIDER_LABEL = "Direction 1"  # views/latent.py, section "Move z" (en.toml latent.move.direction)
MAIN_IMAGE_CAPTION = "G(z)"  # the caption of the picture the student waits for (latent.move.image_caption)
PLAY_LABEL = "Play"  # views/distributions.py, tab "Train a 1-D GAN"
PLAY_FRAME_TEXT = re.compile(r"After (\d+) D steps and (\d+) G steps")  # the caption under the live figure
TRAIN_PROGRESS = re.compile(r"^(\w+) on [^:]+: step ([\d,]+) of ([\d,]+)")  # the training page's bar (train.progress)
TRAIN_SAVED = "Saved on the server as runs/"  # the training page after "Save checkpoint" (train.saved)
FINISHED = ForwardMsg.ScriptFinishedStatus
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- a tiny HTTP client (GET only), so that the script needs nothing beyond websockets ------------------------

async def http_get(host: str, port: int, path: str, cookie: str | None = None) -> tuple[int, dict, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nAccept-Encoding: identity\r\n"
        if cookie:
            head += f"Cookie: {cookie}\r\n"
        writer.write((head + "\r\n").encode())
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    header, _, body = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        if k == "set-cookie":  # several (the XSRF cookie; a proxy's sticky-session cookie): name=value; ...
            headers[k] = "; ".join(filter(None, [headers.get(k), v.strip().split(";")[0]]))
        else:
            headers.setdefault(k, v.strip())
    return status, headers, body


def merged_cookies(kept: str | None, new: str | None) -> str | None:
    """The cookies a browser holds after a response: the ones it had, with those just set replacing them."""
    jar = dict(c.split("=", 1) for c in f"{kept or ''}; {new or ''}".split("; ") if "=" in c)
    return "; ".join(f"{k}={v}" for k, v in jar.items()) or None


# --- the server's /proc figures ----------------------------------------------------------------

def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            out[key] = int(value.split()[0])
    return {"rss_mb": round(out["VmRSS"] / 1024, 1), "threads": out["Threads"]}


LOG_PROBLEM = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) .*$|^Traceback \(most recent call last\)", re.M)


class Monitor:
    """Samples the server's CPU seconds and memory twice a second (in the event loop: cheap)."""

    def __init__(self, pids: list[int] | None):
        self.pid = pids or None  # the app processes (several behind a proxy): CPU, memory, threads summed
        self.samples: list[tuple[float, float, float, int]] = []  # (time, cpu s, rss MB, threads)
        self._task: asyncio.Task | None = None

    def sample(self) -> tuple[float, float, float, int] | None:
        if self.pid is None:
            return None
        st = [proc_status(p) for p in self.pid]
        s = (time.monotonic(), sum(proc_cpu_s(p) for p in self.pid), sum(x["rss_mb"] for x in st),
             sum(x["threads"] for x in st))
        self.samples.append(s)
        return s

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.5)

    def start(self) -> None:
        if self.pid is not None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def window(self, t0: float, t1: float) -> dict:
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if self.pid is None or len(inside) < 2:
            return {}
        a, b = inside[0], inside[-1]
        return {"server_cores": round((b[1] - a[1]) / (b[0] - a[0]), 2),
                "server_cpu_s": round(b[1] - a[1], 1),
                "rss_peak_mb": max(s[2] for s in inside),
                "threads_peak": max(s[3] for s in inside)}


# --- one simulated student ------------------------------------------------------------------------------------

@dataclass
class Window:
    """The measurement window; samples are kept when their action started inside it."""
    start: float = math.inf
    end: float = math.inf

    def has(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass
class Widget:
    id: str
    kind: str
    fragment_id: str


@dataclass
class Stats:
    slider_to_image_ms: list[float] = field(default_factory=list)
    slider_to_finished_ms: list[float] = field(default_factory=list)
    slider_to_png_ms: list[float] = field(default_factory=list)
    slider_at: list[float] = field(default_factory=list)  # when each slider_to_image sample's move was sent
    timeouts: int = 0
    timeout_at: list[float] = field(default_factory=list)
    moves: int = 0
    frames: list[float] = field(default_factory=list)  # times of completed Play-fragment runs
    frame_texts: list[tuple[float, str]] = field(default_factory=list)
    fragment_requests: list[float] = field(default_factory=list)  # times the Play timers sent a rerun
    load_s: float | None = None
    errors: list[str] = field(default_factory=list)
    error_at: list[float] = field(default_factory=list)
    images_per_s: list[float] = field(default_factory=list)


class Student:
    """One browser tab, as seen by the server: a websocket session and the frontend's bookkeeping."""

    def __init__(self, host: str, port: int, page: str, query: str, window: Window):
        self.host, self.port = host, port
        self.page_name, self.query_string = page, query
        self.window = window
        self.stats = Stats()
        self.ws = None
        self.cookie: str | None = None
        self.page_hash = ""
        self.widgets: dict[str, Widget] = {}  # label -> widget (latest delta)
        self.values: dict[str, object] = {}  # widget id -> ("double_array", [v]) etc.: what this student set
        self.cache: dict[str, list] = {}  # ForwardMsg cache: hash -> [message bytes, run count, fragment id]
        self.run_count = 0
        self.max_cached_age = 2
        self.timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, task)
        self.fragment_ids_this_run: list[str] = []
        self.fastest_fragment: str | None = None
        self.closed = False
        self.dropped = asyncio.Event()  # its connection closed because its app process was killed (--kill-at)
        self.dropped_at: float | None = None
        self.opened_at = time.monotonic()
        self.loaded_at: float | None = None  # when its first page run finished
        self.closed_at: float | None = None
        self.playing_since: float | None = None  # when this student pressed Play
        self.train_state: tuple[str, int] | None = None  # the training page's progress: (status, step)
        self.saved = False  # the training page said its checkpoint was saved
        # waiters
        self._finished: asyncio.Future | None = None  # next full-run script_finished
        self._image: asyncio.Future | None = None  # next main image of a full run
        self._armed = False  # a new_session arrived after the last send
        self.reader_task: asyncio.Task | None = None

    # -- sending --
    def _widget_states(self, rs, trigger: str | None) -> None:
        for wid, (kind, value) in self.values.items():
            w = rs.widget_states.widgets.add()
            w.id = wid
            if kind == "double_array":
                w.double_array_value.data.extend(value)
            elif kind == "double":
                w.double_value = value
            elif kind == "int":
                w.int_value = value
            elif kind == "string":
                w.string_value = value
            elif kind == "bool":
                w.bool_value = value
        if trigger is not None:
            w = rs.widget_states.widgets.add()
            w.id = trigger
            w.trigger_value = True

    async def send_rerun(self, fragment_id: str = "", auto: bool = False, trigger: str | None = None) -> None:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query_string
        if self.page_hash:
            rs.page_script_hash = self.page_hash
        else:
            rs.page_name = self.page_name
        if fragment_id:
            rs.fragment_id = fragment_id
        rs.is_auto_rerun = auto
        rs.cached_message_hashes.extend(self.cache)
        ci = rs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        query = f"?{self.query_string}" if self.query_string else ""
        ci.url = f"http://{self.host}:{self.port}/{self.page_name}{query}"
        ci.is_embedded, ci.color_scheme = False, "light"
        self._widget_states(rs, trigger)
        if not fragment_id:
            self._armed = False
        try:
            await self.ws.send(msg.SerializeToString())
        except websockets.ConnectionClosed as exc:
            self._error(f"connection closed while sending: {exc}")

    # -- connecting --
    async def connect(self) -> None:
        status, headers, _ = await http_get(self.host, self.port, "/_stcore/health", self.cookie)
        self.cookie = merged_cookies(self.cookie, headers.get("set-cookie"))  # kept and sent back, as a browser does
        await http_get(self.host, self.port, "/_stcore/host-config", self.cookie)
        cookies = dict(c.split("=", 1) for c in (self.cookie or "").split("; ") if "=" in c)
        xsrf = cookies.get("_streamlit_xsrf", "")
        self.ws = await websockets.connect(
            f"ws://{self.host}:{self.port}/_stcore/stream", subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
            additional_headers={"Cookie": self.cookie} if self.cookie else None, max_size=None,
            open_timeout=LOAD_TIMEOUT_S, ping_interval=None)
        self.reader_task = asyncio.create_task(self._reader())

    async def load(self) -> bool:
        """The first run of the page (as when a link is opened); False if it did not finish in time."""
        t0 = time.monotonic()
        fut = self._finished = asyncio.get_running_loop().create_future()
        await self.send_rerun()
        try:
            await asyncio.wait_for(asyncio.shield(fut), LOAD_TIMEOUT_S)
        except asyncio.TimeoutError:
            self._error(f"the page did not load within {LOAD_TIMEOUT_S:.0f} s")
            return False
        self.loaded_at = time.monotonic()
        self.stats.load_s = self.loaded_at - t0
        return True

    async def close(self) -> None:
        self.closed = True
        self.closed_at = self.closed_at or time.monotonic()
        for _, task in self.timers.values():
            task.cancel()
        self.timers.clear()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:  # noqa: BLE001 -- leaving anyway
                pass
        if self.reader_task:
            self.reader_task.cancel()

    def _error(self, text: str) -> None:
        if self.closed or self.dropped_at is not None:  # a dropped session: its student reconnects
            return
        now = time.monotonic()
        if "connection closed" in text and any(0 <= now - k <= KILL_GRACE_S for k in KILLED_AT):
            self.dropped_at = now  # its process was killed on purpose: the page reconnects, as a browser's does
            self.dropped.set()
            return
        self.stats.errors.append(text)
        self.stats.error_at.append(now)

    # -- receiving --
    async def _reader(self) -> None:
        try:
            async for data in self.ws:
                self._handle(data)
        except websockets.ConnectionClosed as exc:
            if not self.closed:
                self._error(f"connection closed by the server: {exc}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 -- a bug here must show in the report, not hang the run
            self._error(f"client error: {type(exc).__name__}: {exc}")

    def _handle(self, data: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                self._error(f"cache miss for ref_hash {msg.ref_hash}")
                return
            cached[1] = self.run_count
            metadata = ForwardMsg()
            metadata.metadata.CopyFrom(msg.metadata)
            msg = ForwardMsg()
            msg.ParseFromString(cached[0])
            msg.metadata.CopyFrom(metadata.metadata)
            kind = msg.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            frag = msg.delta.fragment_id if kind == "delta" else ""
            self.cache[msg.hash] = [data, self.run_count, frag]
        now = time.monotonic()
        if kind == "new_session":
            ns = msg.new_session
            if not self.page_hash:  # (in an st.navigation app this is app.py's hash; see "navigation")
                self.page_hash = ns.page_script_hash
            if ns.HasField("config") and ns.config.max_cached_message_age:
                self.max_cached_age = ns.config.max_cached_message_age
            self.fragment_ids_this_run = list(msg.metadata.run.fragment_ids)
            if not self.fragment_ids_this_run:  # a full run: the frontend drops every fragment timer
                for _, task in self.timers.values():
                    task.cancel()
                self.timers.clear()
                self._armed = True
        elif kind == "delta":
            self._delta(msg, now)
        elif kind == "navigation":  # st.navigation names the page that ran: later reruns ask for it
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                entry = self.timers.pop(fid, None)
                if entry:
                    entry[1].cancel()
        elif kind == "script_finished":
            status = msg.script_finished
            fragments = list(msg.metadata.run.fragment_ids)
            if status != FINISHED.FINISHED_EARLY_FOR_RERUN:
                self._age_cache(fragments)
            if status == FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                if self.fastest_fragment and self.fastest_fragment in fragments:
                    self.stats.frames.append(now)
            elif status in (FINISHED.FINISHED_SUCCESSFULLY, FINISHED.FINISHED_WITH_COMPILE_ERROR) and not fragments:
                if self._finished and not self._finished.done():
                    self._finished.set_result(now)
                if status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    self._error("script finished with a compile error")
        elif kind == "page_not_found":
            self._error(f"page not found: {msg.page_not_found.page_name}")

    def _age_cache(self, fragments: list[str]) -> None:
        """The frontend's ForwardMsg cache: one more run, drop what this run made too old."""
        self.run_count += 1
        for h in [h for h, (_, n, frag) in self.cache.items()
                  if (not fragments or frag in fragments) and self.run_count - n > self.max_cached_age]:
            del self.cache[h]

    def _delta(self, msg: ForwardMsg, now: float) -> None:
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        et = el.WhichOneof("type")
        sub = getattr(el, et)
        if et == "exception":
            self._error(f"exception element: {sub.type}: {sub.message}"[:300])
        elif et == "alert" and sub.format == sub.ERROR:
            self._error(f"st.error: {sub.body}"[:300])
        elif et == "imgs":
            captions = [i.caption for i in sub.imgs]
            if captions and captions[0].startswith(MAIN_IMAGE_CAPTION) and not delta.fragment_id:
                if self._armed and self._image and not self._image.done():
                    self._image.set_result((now, sub.imgs[0].url))
        elif et == "markdown":
            m = PLAY_FRAME_TEXT.search(sub.body)
            if m:
                self.stats.frame_texts.append((now, m.group(0)))
            self.saved = self.saved or sub.body.startswith(TRAIN_SAVED)
        elif et == "progress":
            m = TRAIN_PROGRESS.match(sub.text)
            if m:
                self.train_state = (m.group(1), int(m.group(2).replace(",", "")))
        elif et == "metric" and sub.label.startswith("Images / s"):
            if self.window.has(now):
                try:
                    self.stats.images_per_s.append(float(sub.body.replace(",", "")))
                except ValueError:
                    pass
        label = getattr(sub, "label", None) if "label" in sub.DESCRIPTOR.fields_by_name else None
        wid = getattr(sub, "id", "") if "id" in sub.DESCRIPTOR.fields_by_name else ""
        if label and wid:
            self.widgets[label] = Widget(wid, et, delta.fragment_id)

    def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        if not fragment_id:
            return
        old = self.timers.get(fragment_id)
        if old and old[0] == interval:
            return
        if old:
            old[1].cancel()
        self.timers[fragment_id] = (interval, asyncio.create_task(self._timer(fragment_id, interval)))
        fastest = min(self.timers.items(), key=lambda kv: kv[1][0])[0]
        self.fastest_fragment = fastest

    async def _timer(self, fragment_id: str, interval: float) -> None:
        """setInterval: a fixed rate, not waiting for the previous run (late ticks are skipped, not bunched)."""
        loop = asyncio.get_running_loop()
        due = loop.time() + interval
        while not self.closed:
            await asyncio.sleep(max(0.0, due - loop.time()))
            await self.send_rerun(fragment_id=fragment_id, auto=True)
            if fragment_id == self.fastest_fragment:
                self.stats.fragment_requests.append(time.monotonic())
            due += interval
            if due < loop.time():
                due = loop.time() + interval

    # -- actions --
    async def click(self, label: str) -> bool:
        w = self.widgets.get(label)
        if w is None:
            self._error(f"no widget labelled {label!r} on page {self.page_name}")
            return False
        await self.send_rerun(fragment_id=w.fragment_id, trigger=w.id)
        return True

    async def move_slider(self, label: str, value: float) -> None:
        """Send a new slider value; records slider-to-image, -to-finished and -to-PNG (or a timeout)."""
        w = self.widgets[label]
        loop = asyncio.get_running_loop()
        self.values[w.id] = ("double_array", [value])
        self._image = loop.create_future()
        self._finished = loop.create_future()
        t0 = time.monotonic()
        await self.send_rerun(fragment_id=w.fragment_id)
        measured = self.window.has(t0)
        self.stats.moves += measured
        try:
            t_image, url = await asyncio.wait_for(asyncio.shield(self._image), ANSWER_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.stats.timeouts += measured
            if measured:
                self.stats.timeout_at.append(t0)
            # the student waits for the page to settle before moving again (at most 30 s more)
            try:
                await asyncio.wait_for(asyncio.shield(self._finished), 30)
            except asyncio.TimeoutError:
                pass
            return
        status, _, body = await http_get(self.host, self.port, url, self.cookie)
        t_png = time.monotonic()
        if status != 200:
            self._error(f"GET {url}: HTTP {status}")
        try:
            t_done = await asyncio.wait_for(asyncio.shield(self._finished), max(0.1, ANSWER_TIMEOUT_S - (t_png - t0)))
        except asyncio.TimeoutError:
            t_done = None
        if measured:
            self.stats.slider_to_image_ms.append((t_image - t0) * 1000)
            self.stats.slider_at.append(t0)
            self.stats.slider_to_png_ms.append((t_png - t0) * 1000)
            if t_done is not None:
                self.stats.slider_to_finished_ms.append((t_done - t0) * 1000)


# --- the roles ------------------------------------------------------------------------------------------------

async def latent_student(s: Student, rng: random.Random, stop: asyncio.Event) -> None:
    if not await s.load():
        return
    if SLIDER_LABEL not in s.widgets:
        s._error(f"no slider {SLIDER_LABEL!r} on the latent page")
        return
    value = 0.0
    await asyncio.sleep(rng.uniform(0.0, 2.0))  # students do not all move at the same instant
    while not stop.is_set() and not s.closed:
        value = rng.choice([v for v in (round(x * 0.1, 1) for x in range(-30, 31)) if v != value])
        await s.move_slider(SLIDER_LABEL, value)
        try:
            await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 2.0))  # think time
        except asyncio.TimeoutError:
            pass


async def play_student(s: Student, rng: random.Random, stop: asyncio.Event) -> None:
    if not await s.load():
        return
    await asyncio.sleep(rng.uniform(0.0, 1.0))
    if await s.click(PLAY_LABEL):
        s.playing_since = time.monotonic()
    await stop.wait()


async def train_student(s: Student, rng: random.Random, stop: asyncio.Event) -> None:
    if not await s.load():
        return
    await s.click("Start")
    await stop.wait()
    if "Stop" in s.widgets:  # free the server's training slot for the next round
        s._finished = asyncio.get_running_loop().create_future()
        await s.click("Stop")
        try:
            await asyncio.wait_for(asyncio.shield(s._finished), 15)
        except asyncio.TimeoutError:
            pass


ROLES = {"latent": ("latent", "lang=en", latent_student),
         "play": ("distributions", "lang=en&tab=train", play_student),
         "train": ("train", "lang=en&steps=1000000", train_student)}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def rounded(x, nd=0):
    return None if x is None else round(x, nd) if nd else round(x)


async def one_round(host: str, port: int, n: int, args, monitor: Monitor, rng: random.Random,
                    server: StreamlitServer | ClassServers | None) -> dict:
    n_play = round(n * args.play_share)
    roles = ["play"] * n_play + ["latent"] * (n - n_play)
    rng.shuffle(roles)
    if args.train:
        roles.append("train")
    window = Window()
    stop = asyncio.Event()
    before = monitor.sample()
    log_start = len(server.log_tail(10**9)) if server else 0
    students: list[tuple[str, Student]] = []
    tasks = []
    for i, role in enumerate(roles):
        page, query, _ = ROLES[role]
        if role == "latent" and args.distinct_seeds:  # no two students look at the same z (no shared pictures)
            query += f"&seed={args.seed * 1000 + i + 1}"
        students.append((role, Student(host, port, page, query, window)))
    cpu0, wall0 = time.process_time(), time.monotonic()

    async def run(role: str, s: Student) -> None:
        try:
            await s.connect()
        except Exception as exc:  # noqa: BLE001
            s._error(f"could not connect: {type(exc).__name__}: {exc}")
            return
        await ROLES[role][2](s, random.Random(rng.random()), stop)

    for role, s in students:
        tasks.append(asyncio.create_task(run(role, s)))
        await asyncio.sleep(args.stagger)
    # every page loaded (or given up), then warm-up, then the window
    load_deadline = time.monotonic() + LOAD_TIMEOUT_S
    while time.monotonic() < load_deadline and not all(s.stats.load_s is not None or s.stats.errors
                                                         for _, s in students):
        await asyncio.sleep(0.2)
    loaded_at = time.monotonic()
    await asyncio.sleep(args.warmup)
    window.start = time.monotonic()
    ccpu0 = time.process_time()
    await asyncio.sleep(args.seconds)
    window.end = time.monotonic()
    ccpu1 = time.process_time()
    stop.set()
    await asyncio.wait(tasks, timeout=ANSWER_TIMEOUT_S + 20)
    for _, s in students:
        await s.close()
    for t in tasks:
        t.cancel()
    await asyncio.sleep(args.after)
    after = monitor.sample()
    cpu1 = time.process_time()

    lat = [s for r, s in students if r == "latent"]
    play = [s for r, s in students if r == "play"]
    train = [s for r, s in students if r == "train"]
    img = [x for s in lat for x in s.stats.slider_to_image_ms]
    fin = [x for s in lat for x in s.stats.slider_to_finished_ms]
    png = [x for s in lat for x in s.stats.slider_to_png_ms]
    span = window.end - window.start
    fps = [sum(window.has(t) for t in s.stats.frames) / span for s in play]
    shown = []  # distinct "After N D steps" captions per second (what a viewer sees change)
    for s in play:
        texts = [txt for t, txt in s.stats.frame_texts if window.has(t)]
        shown.append(sum(1 for a, b in zip(texts, texts[1:]) if a != b) / span)
    errors = [e for _, s in students for e in s.stats.errors]
    loads = [s.stats.load_s for _, s in students if s.stats.load_s is not None]
    result = {
        "sessions": n, "latent_sessions": len(lat), "play_sessions": len(play), "train_sessions": len(train),
        "seconds": round(span, 1),
        "page_load_s": {"p50": rounded(percentile(loads, 0.5), 2), "max": rounded(max(loads, default=None), 2)},
        "slider_moves": sum(s.stats.moves for s in lat),
        "slider_to_image_ms": {"p50": rounded(percentile(img, 0.5)), "p95": rounded(percentile(img, 0.95)),
                               "max": rounded(max(img, default=None)), "n": len(img)},
        "slider_to_finished_ms": {"p50": rounded(percentile(fin, 0.5)), "p95": rounded(percentile(fin, 0.95))},
        "slider_to_png_ms": {"p50": rounded(percentile(png, 0.5)), "p95": rounded(percentile(png, 0.95))},
        "timeouts": sum(s.stats.timeouts for s in lat),
        "play_frames_per_s": {"mean": rounded(statistics.fmean(fps), 2) if fps else None,
                              "min": rounded(min(fps), 2) if fps else None,
                              "per_session": [round(f, 1) for f in fps]},
        "play_captions_changed_per_s_mean": rounded(statistics.fmean(shown), 2) if shown else None,
        "play_timer_requests_per_s_mean": rounded(statistics.fmean(
            [sum(window.has(t) for t in s.stats.fragment_requests) / span for s in play]), 1) if play else None,
        "errors": {"count": len(errors), "first": errors[0] if errors else None},
        "client_cpu_s": {"window": round(ccpu1 - ccpu0, 2), "round": round(cpu1 - cpu0, 2),
                         "window_cores": round((ccpu1 - ccpu0) / span, 3)},
    }
    if train:
        ips = [x for s in train for x in s.stats.images_per_s if x > 0]  # 0 until the first steps are timed
        result["train_images_per_s_median"] = rounded(statistics.median(ips)) if ips else None
    w = monitor.window(window.start, window.end)
    if w:
        result["server"] = {
            "cores": w["server_cores"], "cpu_s": w["server_cpu_s"],
            "rss_mb": {"before": before[2], "peak_during": w["rss_peak_mb"], "after": after[2],
                       "after_s": args.after},
            "threads": {"before": before[3], "peak_during": w["threads_peak"], "after": after[3]},
        }
        load_phase = monitor.window(wall0, loaded_at)
        if load_phase:
            result["server"]["cores_while_loading"] = load_phase["server_cores"]
    if server is not None:
        problems = [m.group(0) for m in LOG_PROBLEM.finditer(server.log_tail(10**9)[log_start:])]
        result["server_log_problems"] = {"count": len(problems), "first": problems[0] if problems else None}
    return result


async def warm_up(host: str, port: int) -> None:
    """One visit to each page used, so the first round does not pay for the server's imports."""
    window = Window()
    for role in ("latent", "play"):
        page, query, _ = ROLES[role]
        s = Student(host, port, page, query, window)
        await s.connect()
        await s.load()
        await s.close()


@dataclass
class Servers:
    """Where the students go: the address, the app processes' PIDs and the runs folder (None: not known)."""
    host: str
    port: int
    pids: list[int] | None
    runs_dir: Path | None
    server: StreamlitServer | ClassServers | None = None  # started here (stopped by stop())
    tmp: tempfile.TemporaryDirectory | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.tmp.cleanup()


def start_servers(args, extra_env: dict[str, str] | None = None) -> Servers:
    """The server of ``--url``, else one started here (``--processes``), its runs folder in a temporary one."""
    if args.url:
        u = urllib.parse.urlparse(args.url)
        return Servers(u.hostname, u.port or 80, args.server_pid, args.runs_dir)
    tmp = tempfile.TemporaryDirectory()
    runs = Path(tmp.name) / "runs"
    if args.processes > 1:  # the deployment for a class: several processes behind HAProxy
        server = ClassServers(args.processes, log_dir=Path(tmp.name),
                              extra_env={"GAN_RUNS_DIR": str(runs), **(extra_env or {})})
        server.wait_healthy()
        return Servers("127.0.0.1", server.port, server.pids, runs, server, tmp)
    server = StreamlitServer(runs, Path(tmp.name) / "server.log", extra_env)
    server.wait_healthy()
    return Servers("127.0.0.1", server.port, [server.pid], runs, server, tmp)


async def warm_up_all(servers: Servers) -> None:
    """Every app process's imports, before students come."""
    server = servers.server
    for p in server.local_ports if isinstance(server, ClassServers) else [servers.port]:
        await warm_up(servers.host, p)


async def main_async(args) -> dict:
    servers = start_servers(args)
    host, port, pids, server = servers.host, servers.port, servers.pids, servers.server
    monitor = Monitor(pids)
    out: dict = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                 "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
                 "settings": {"seconds": args.seconds, "warmup": args.warmup, "after": args.after,
                              "play_share": args.play_share, "answer_timeout_s": ANSWER_TIMEOUT_S,
                              "think_time_s": [0.5, 2.0], "slider": SLIDER_LABEL, "train": args.train,
                              "processes": args.processes, "distinct_seeds": args.distinct_seeds},
                 "rounds": []}
    try:
        monitor.start()
        start = monitor.sample()
        await warm_up_all(servers)
        warm = monitor.sample()
        if start:
            out["server_at_start"] = {"rss_mb": start[2], "threads": start[3]}
            out["server_after_warm_up"] = {"rss_mb": warm[2], "threads": warm[3]}
        rng = random.Random(args.seed)
        for n in args.sessions:
            result = await one_round(host, port, n, args, monitor, rng, server)
            out["rounds"].append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)  # progress; the JSON on stdout is the result
        if args.final_wait:
            await asyncio.sleep(args.final_wait)
            final = monitor.sample()
            if final:
                out["server_final"] = {"rss_mb": final[2], "threads": final[3], "seconds_after_last_round":
                                       args.final_wait + args.after}
        await monitor.stop()
    finally:
        if server is not None:
            log = server.log_tail(10**9)
            problems = [m.group(0) for m in LOG_PROBLEM.finditer(log)]
            out["server_log_problems"] = {"count": len(problems), "first": problems[:3]}
        servers.stop()
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out["client_cpu_s_total"] = round(time.process_time(), 2)
    out["goal"] = {"sessions": 30, "slider_to_image_p95_ms": 1000, "timeouts": 0, "errors": 0,
                   "memory": "flat after the students leave"}
    return out


# --- the soak: a whole lecture on one deployment (issue 30, part 2) -------------------------------------------

SOAK_SAMPLE_S = 5.0  # how often the servers' memory, CPU and runs folder are read
TRAIN_START_TIMEOUT_S = 600.0  # Start to steps growing, a wait in the server's queue included (longer: an error)
TRAIN_ANSWER_TIMEOUT_S = 30.0  # Pause, Save, Resume: the page shows the change within this
RUN_ENDED = ("Finished", "Stopped", "Diverged", "Failed")  # train.status.*: a run that will not go on


def process_tree() -> dict[int, list[int]]:
    """Every process's children, from /proc/*/stat (a process that ends meanwhile is skipped)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    """Children, grandchildren, ... of ``pid``."""
    found, todo = [], list(tree.get(pid, []))
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(tree.get(p, []))
    return found


def rss_or_zero(pid: int) -> float:
    """Resident MB of a process; 0 if it ended (or is a zombie: no VmRSS) meanwhile."""
    try:
        return proc_status(pid)["rss_mb"]
    except (OSError, KeyError):
        return 0.0


def cpu_or_zero(pid: int) -> float:
    try:
        return proc_cpu_s(pid)
    except (OSError, ValueError, IndexError):
        return 0.0


@dataclass
class Reading:
    """One look at the servers: per app process (by PID) its own and its descendants' figures, and the disk."""
    t: float
    rss_mb: dict[int, float]
    children_mb: dict[int, float]  # every descendant's RSS, summed
    children: dict[int, int]  # how many descendants
    cpu_s: dict[int, float]  # the process and its live descendants
    disk_mb: float | None  # everything under the runs folder (apparent sizes, MB = 10^6 bytes)
    run_folders: int | None
    largest_run_mb: float | None


class SoakMonitor:
    """Reads the app processes (and every process under them) and the runs folder every SOAK_SAMPLE_S."""

    def __init__(self, pids, runs_dir: Path | None):
        self.pids = pids  # a callable: ClassServers restarts a process that ended (a new PID)
        self.runs_dir = runs_dir
        self.readings: list[Reading] = []

    def sample(self) -> Reading:
        tree = process_tree()
        rss, kids_mb, kids, cpu = {}, {}, {}, {}
        for pid in self.pids() or []:
            below = descendants(pid, tree)
            rss[pid] = rss_or_zero(pid)
            kids_mb[pid] = round(sum(rss_or_zero(p) for p in below), 1)
            kids[pid] = len(below)
            cpu[pid] = cpu_or_zero(pid) + sum(cpu_or_zero(p) for p in below)
        disk = folders = largest = None
        if self.runs_dir is not None:
            usage = measure_runs(self.runs_dir)
            disk, folders = round(usage.used / 1e6, 2), len(usage.runs)
            largest = round(max((r.size for r in usage.runs), default=0) / 1e6, 2)
        reading = Reading(time.monotonic(), rss, kids_mb, kids, cpu, disk, folders, largest)
        self.readings.append(reading)
        return reading

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            await sleep_unless(stop, SOAK_SAMPLE_S)


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if the soak ends meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))
    except asyncio.TimeoutError:
        pass


@dataclass
class Lecture:
    """What happened during a soak, with monotonic times: every session opened, what the students did."""
    stop: asyncio.Event
    start: float  # time.monotonic() when the lecture began
    sessions: list[tuple[str, Student]] = field(default_factory=list)  # (role, session), every one opened
    events: list[tuple[float, str, str]] = field(default_factory=list)  # (time, what, who)
    cycles: list[dict] = field(default_factory=list)  # the trainers' runs, one dict per visit to the page
    back_after_drop: list[float] = field(default_factory=list)  # s from a dropped session to the next page loaded
    _timers: set = field(default_factory=set)

    def event(self, what: str, who: str) -> None:
        self.events.append((time.monotonic(), what, who))

    def for_a_while(self, seconds: float) -> asyncio.Event:
        """An event set after ``seconds`` or when the soak ends, whichever comes first (one stay on a page)."""
        done = asyncio.Event()

        async def watch() -> None:
            await sleep_unless(self.stop, seconds)
            done.set()

        task = asyncio.create_task(watch())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)
        return done

    def open(self, role: str, host: str, port: int, page: str, query: str, cookie: str | None = None) -> Student:
        """A new session; ``cookie``: the browser's cookies (a reload or reconnect), else a new browser's."""
        s = Student(host, port, page, query, Window(0.0, math.inf))  # everything is kept, with its time
        s.cookie = cookie
        self.sessions.append((role, s))
        return s


async def visitor(name: str, role: str, servers: Servers, args, rng: random.Random, lecture: Lecture,
                  join_at: float) -> None:
    """A latent or Play student for the whole lecture: joins, stays a while, then reloads the page (a new
    session at once) or leaves and comes back later, until the lecture ends."""
    await sleep_unless(lecture.stop, join_at)
    page, query, act = ROLES[role]
    what, cookie, dropped_at = "join", None, None
    while not lecture.stop.is_set():
        s = lecture.open(role, servers.host, servers.port, page, query, cookie if what == "reconnect" else None)
        lecture.event(what, name)
        stay = lecture.for_a_while(rng.uniform(0.5, 1.5) * args.stay_minutes * 60)
        try:
            await s.connect()
        except Exception as exc:  # noqa: BLE001
            s._error(f"could not connect: {type(exc).__name__}: {exc}")
        else:
            await until_dropped(s, act(s, rng, stay))
        if dropped_at is not None and s.loaded_at is not None:
            lecture.back_after_drop.append(s.loaded_at - dropped_at)
        dropped_at = s.dropped_at
        await s.close()
        if lecture.stop.is_set():
            break
        if s.dropped_at is not None:
            lecture.event("dropped", name)
            await sleep_unless(lecture.stop, RECONNECT_S)
            what, cookie = "reconnect", s.cookie
        elif rng.random() < args.reload_share:
            what = "reload"
        else:
            lecture.event("leave", name)
            await sleep_unless(lecture.stop, rng.uniform(0.5, 1.5) * args.away_minutes * 60)
            what = "return"


async def until_dropped(s: Student, work) -> None:
    """Run ``work`` (a student's coroutine on session ``s``) until it ends or the session is dropped."""
    task, dropped = asyncio.create_task(work), asyncio.create_task(s.dropped.wait())
    await asyncio.wait({task, dropped}, return_when=asyncio.FIRST_COMPLETED)
    for t in (task, dropped):
        t.cancel()
    await asyncio.gather(task, dropped, return_exceptions=True)


async def wait_until(condition, seconds: float, stop: asyncio.Event) -> bool:
    """Poll ``condition`` until it holds (True), ``seconds`` pass or the soak ends (False)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if stop.is_set() or time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.25)
    return True


async def training_visit(s: Student, rng: random.Random, args, lecture: Lecture, cycle: dict, who: str) -> None:
    """One visit to the training page: Start, see the steps grow, Pause (the steps stand still), Save,
    Resume (they grow again), watch, then return: the caller closes the tab without Stop (abandoned)."""
    stop = lecture.stop

    def status() -> str | None:
        return s.train_state[0] if s.train_state else None

    def step() -> int:
        return s.train_state[1] if s.train_state else -1

    def failed(what: str, seconds: float) -> None:
        if not stop.is_set():
            s._error(f"training page: {what} within {seconds:.0f} s (status {status()}, step {step()})")

    if not await s.load() or not await s.click("Start"):
        return
    t0 = time.monotonic()
    lecture.event("start", who)
    if not await wait_until(lambda: status() == "Training" and step() >= 0, TRAIN_START_TIMEOUT_S, stop):
        return failed("the run did not start", TRAIN_START_TIMEOUT_S)
    first = step()
    if not await wait_until(lambda: step() > first or status() in RUN_ENDED, TRAIN_ANSWER_TIMEOUT_S, stop):
        return failed("the steps did not grow", TRAIN_ANSWER_TIMEOUT_S)
    cycle.update(start_wait_s=round(time.monotonic() - t0, 1), steps_seen=[first, step()],
                 running_min=round((time.monotonic() - lecture.start) / 60, 2))
    lecture.event("running", who)
    watch = rng.uniform(0.5, 1.5) * args.trainer_minutes * 60 / 2
    await sleep_unless(stop, watch)
    if stop.is_set() or status() in RUN_ENDED:
        cycle["ended"] = status()
        return
    await s.click("Pause")
    if not await wait_until(lambda: status() == "Paused" or status() in RUN_ENDED, TRAIN_ANSWER_TIMEOUT_S, stop):
        return failed("Pause did not show", TRAIN_ANSWER_TIMEOUT_S)
    if status() != "Paused":
        cycle["ended"] = status()
        return
    paused_at = step()
    lecture.event("pause", who)
    # a student reads the page before the next click (a Save sent the instant "Paused" showed, while Pause's
    # page run was still going, once showed no "Saved" within 30 s)
    await sleep_unless(stop, rng.uniform(1.5, 3.0))
    await s.click("Save checkpoint")
    if not await wait_until(lambda: s.saved, TRAIN_ANSWER_TIMEOUT_S, stop):
        return failed("Save checkpoint did not say saved", TRAIN_ANSWER_TIMEOUT_S)
    await sleep_unless(stop, rng.uniform(2.0, 6.0))  # a look at the paused grid
    cycle.update(paused_at_step=paused_at, steps_while_paused=step() - paused_at, saved=True)
    await s.click("Resume")
    if not await wait_until(lambda: step() > paused_at or status() in RUN_ENDED, TRAIN_ANSWER_TIMEOUT_S, stop):
        return failed("the steps did not grow after Resume", TRAIN_ANSWER_TIMEOUT_S)
    cycle["resumed_to_step"] = step()
    lecture.event("resume", who)
    await sleep_unless(stop, watch)
    if not stop.is_set():
        cycle.update(abandoned_at_step=step(), abandoned_status=status())


async def trainer(name: str, servers: Servers, args, rng: random.Random, lecture: Lecture, join_at: float) -> None:
    """A student training on the training page, visit after visit: each visit starts a run and abandons it
    (the tab closed without Stop); the student comes back later in a new browser and starts again."""
    await sleep_unless(lecture.stop, join_at)
    page = ROLES["train"][0]
    query = f"lang=en&preset={args.train_preset}&steps={args.train_steps}"
    cookie = dropped_at = None  # the browser's cookies and when it dropped, when its process was killed
    while not lecture.stop.is_set():
        s = lecture.open("train", servers.host, servers.port, page, query, cookie)
        cookie = None
        cycle = {"trainer": name, "visit": sum(c["trainer"] == name for c in lecture.cycles) + 1,
                 "opened_min": round((s.opened_at - lecture.start) / 60, 2)}
        lecture.cycles.append(cycle)
        try:
            await s.connect()
            await until_dropped(s, training_visit(s, rng, args, lecture, cycle, name))
        except Exception as exc:  # noqa: BLE001 -- in the report, not a hung soak
            s._error(f"trainer: {type(exc).__name__}: {exc}")
        if dropped_at is not None and s.loaded_at is not None:
            lecture.back_after_drop.append(s.loaded_at - dropped_at)
        dropped_at = s.dropped_at
        await s.close()
        if s.dropped_at is not None:  # its process was killed: the page reconnects (its run was kept for it)
            cycle["dropped_at_min"] = round((s.dropped_at - lecture.start) / 60, 2)
            lecture.event("dropped", name)
            await sleep_unless(lecture.stop, RECONNECT_S)
            cookie = s.cookie
            continue
        if "abandoned_at_step" in cycle:
            lecture.event("abandon", name)
        await sleep_unless(lecture.stop, rng.uniform(0.5, 1.5) * args.away_minutes * 60)


async def keep_processes_up(server: ClassServers, lecture: Lecture, kill: dict) -> None:
    """What serve_class.py does all lecture: start again an app process that ended (every 0.5 s)."""
    while not lecture.stop.is_set():
        for message in await asyncio.to_thread(server.restart_ended):
            kill.setdefault("restarts", []).append(
                {"after_kill_s": round(time.monotonic() - KILLED_AT[-1], 2) if KILLED_AT else None, "said": message})
        await sleep_unless(lecture.stop, 0.5)


async def kill_a_process(server: ClassServers, at_s: float, lecture: Lecture, kill: dict) -> None:
    """--kill-at: SIGKILL app process 0 at ``at_s``; follow HAProxy's view of it until it is UP again."""
    await sleep_unless(lecture.stop, at_s)
    if lecture.stop.is_set():
        return
    name, victim = "app0", server.apps[0]
    on_it = [s for _, s in lecture.sessions
             if not s.closed and s.cookie and f"{COOKIE}={name}" in s.cookie.split("; ")]
    t = time.monotonic()
    KILLED_AT.append(t)
    os.kill(victim.pid, signal.SIGKILL)
    kill.update(at_min=round((t - lecture.start) / 60, 2), process=name, pid=victim.pid, sessions_on_it=len(on_it))
    down = up = None
    while not lecture.stop.is_set() and time.monotonic() - t < 120 and up is None:
        try:
            state = (await asyncio.to_thread(server_states, server.stats_socket)).get(name, "")
        except OSError:
            state = ""
        now = time.monotonic() - t
        if down is None and state.startswith("DOWN"):
            down = now
        elif down is not None and state.startswith("UP"):
            up = now
        await asyncio.sleep(0.1)
    kill.update(haproxy_down_after_s=round(down, 2) if down is not None else None,
                haproxy_up_after_s=round(up, 2) if up is not None else None)


def kill_summary(kill: dict, lecture: Lecture, runs_dir: Path | None) -> dict:
    """The --kill-at part of the report: the kill, HAProxy, the restart, the dropped sessions, the kept runs."""
    if not KILLED_AT:
        return kill
    t = KILLED_AT[-1]
    dropped = [s for _, s in lecture.sessions if s.dropped_at is not None]
    back = lecture.back_after_drop  # from a dropped connection to the student's page loaded again (a 1-s retry)
    kill.update(sessions_dropped=len(dropped), reconnects=sum(what == "reconnect" for _, what, _ in lecture.events),
                page_back_p50_s=rounded(percentile(back, 0.5), 2), page_back_max_s=rounded(max(back, default=None), 2),
                errors_within_60s=sum(t <= at < t + 60 for _, s in lecture.sessions for at in s.stats.error_at))
    if runs_dir is not None:
        states = []
        for marker in runs_dir.glob("*/rescued.json"):
            try:
                states.append(json.loads(marker.read_text()).get("state"))
            except (OSError, ValueError):
                states.append("unreadable")
        kill["runs_kept"] = {state: states.count(state) for state in sorted(set(map(str, states)))}
        kill["half_written"] = sum(1 for p in runs_dir.rglob("*") if p.name.endswith((".tmp", ".new")))
    return kill


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def window_row(i: int, t0: float, t1: float, start: float, lecture: Lecture, readings: list[Reading],
               quota_mb: float | None) -> dict:
    """One window's figures, flat (a CSV row)."""
    sessions = [s for _, s in lecture.sessions]
    latent = [s for r, s in lecture.sessions if r == "latent"]
    img = [ms for s in latent for at, ms in zip(s.stats.slider_at, s.stats.slider_to_image_ms) if t0 <= at < t1]
    errors = sorted((at, e) for s in sessions for at, e in zip(s.stats.error_at, s.stats.errors) if t0 <= at < t1)
    frames = captions = 0
    playing_s = 0.0
    for _, s in (x for x in lecture.sessions if x[0] == "play"):
        if s.playing_since is None:
            continue
        playing_s += overlap(s.playing_since, s.closed_at or t1, t0, t1)
        frames += sum(t0 <= t < t1 for t in s.stats.frames)
        texts = [txt for t, txt in s.stats.frame_texts if t0 <= t < t1]
        captions += sum(a != b for a, b in zip(texts, texts[1:]))
    events: dict[str, int] = {}
    for at, what, _ in lecture.events:
        if t0 <= at < t1:
            events[what] = events.get(what, 0) + 1
    row = {"window": i + 1, "start_min": round((t0 - start) / 60, 2), "end_min": round((t1 - start) / 60, 2),
           "students_online": sum(s.opened_at <= t1 and (s.closed_at is None or s.closed_at > t1) for s in sessions),
           "slider_samples": len(img),
           "slider_to_image_p50_ms": rounded(percentile(img, 0.5)),
           "slider_to_image_p95_ms": rounded(percentile(img, 0.95)),
           "slider_to_image_max_ms": rounded(max(img, default=None)),
           "timeouts": sum(t0 <= at < t1 for s in latent for at in s.stats.timeout_at),
           "play_frames_per_s": round(frames / playing_s, 2) if playing_s else None,
           "play_captions_per_s": round(captions / playing_s, 2) if playing_s else None,
           "train_start_wait_max_s": max((c["start_wait_s"] for c in lecture.cycles if "running_min" in c
                                          and t0 <= start + 60 * c["running_min"] < t1), default=None),
           "errors": len(errors), "first_error": errors[0][1] if errors else "",
           "events": " ".join(f"{k}:{v}" for k, v in sorted(events.items()))}
    inside = [r for r in readings if t0 <= r.t < t1] or [min(readings, key=lambda r: abs(r.t - t1))]
    first, last = inside[0], inside[-1]
    for n, pid in enumerate(last.rss_mb):  # at the window's end; the processes in the order they were started
        row[f"app{n}_pid"] = pid
        row[f"app{n}_rss_mb"] = last.rss_mb[pid]
        row[f"app{n}_children_rss_mb"] = last.children_mb[pid]
        row[f"app{n}_children_max"] = max(r.children.get(pid, 0) for r in inside)
        span = last.t - first.t
        row[f"app{n}_cores"] = round((last.cpu_s[pid] - first.cpu_s.get(pid, last.cpu_s[pid])) / span, 2) if span else None
    row["rss_apps_mb"] = round(sum(last.rss_mb.values()), 1)
    row["rss_total_mb"] = round(sum(last.rss_mb.values()) + sum(last.children_mb.values()), 1)
    row["disk_mb"] = last.disk_mb
    row["disk_max_mb"] = max((r.disk_mb for r in inside if r.disk_mb is not None), default=None)
    row["run_folders"] = last.run_folders
    row["largest_run_mb"] = max((r.largest_run_mb for r in inside if r.largest_run_mb is not None), default=None)
    row["disk_quota_mb"] = quota_mb
    return row


def soak_goals(rows: list[dict], args, log_problems: int) -> dict:
    """Goal -> {"pass": bool, "why": text}: p95 <= 1 s in every window, no error, RSS flat after the first
    10 minutes (half the soak when it is shorter than 20), the runs folder within its quota."""
    slow = [r["window"] for r in rows if r["slider_to_image_p95_ms"] is None or r["slider_to_image_p95_ms"] > 1000]
    errors = sum(r["errors"] for r in rows)
    timeouts = sum(r["timeouts"] for r in rows)
    from_minute = 10 if args.soak >= 20 else args.soak / 2
    ref = next((r for r in rows if r["end_min"] >= from_minute - 1e-6), rows[-1])
    growth = rows[-1]["rss_apps_mb"] / ref["rss_apps_mb"] - 1 if ref["rss_apps_mb"] else None
    total_growth = rows[-1]["rss_total_mb"] / ref["rss_total_mb"] - 1 if ref["rss_total_mb"] else None
    disk = max((r["disk_max_mb"] for r in rows if r["disk_max_mb"] is not None), default=None)
    largest = max((r["largest_run_mb"] or 0 for r in rows), default=0)
    quota = args.runs_quota_mb
    goals = {
        "slider_to_image_p95_within_1s": {
            "pass": not slow, "why": f"p95 over 1 s (or no sample) in windows {slow}" if slow else "every window"},
        "no_error": {"pass": errors + timeouts + log_problems == 0,
                     "why": f"{errors} errors, {timeouts} slider timeouts (> {ANSWER_TIMEOUT_S:.0f} s), "
                            f"{log_problems} warnings or errors in the server logs"},
        "rss_flat": {"pass": growth is not None and growth <= 0.05,
                     "why": f"app processes {ref['rss_apps_mb']} MB (minute {ref['end_min']:g}, end of window "
                            f"{ref['window']}) -> {rows[-1]['rss_apps_mb']} MB (last): "
                            f"{100 * growth:+.1f}% (goal <= +5%); with their child processes "
                            f"{ref['rss_total_mb']} -> {rows[-1]['rss_total_mb']} MB ({100 * total_growth:+.1f}%)"
                     if growth is not None and total_growth is not None else "no reading"},
        "disk_bounded": {"pass": disk is not None and disk <= quota + largest,
                         "why": f"largest reading {disk} MB, quota {quota} MB + one run folder ({largest} MB): "
                                "a save may pass the quota by one checkpoint (gan_core.runs_quota)"},
    }
    return goals


def write_csv(rows: list[dict], path: Path) -> None:
    columns = list(dict.fromkeys(k for r in rows for k in r))  # every column, in first-seen order
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        w.writerows(rows)


async def soak_async(args) -> dict:
    """A whole lecture: args.sessions[0] students for args.soak minutes; see the module's docstring."""
    env = {"GAN_MAX_RUNS_MB": str(args.runs_quota_mb), "GAN_ORPHAN_TIMEOUT": f"{args.orphan_timeout:g}"}
    servers = start_servers(args, env)
    n, k = args.sessions[0], args.trainers
    n_play = round((n - k) * args.play_share)
    out: dict = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                 "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
                 "settings": {"minutes": args.soak, "window_minutes": args.window_minutes,
                              "join_minutes": args.join_minutes, "students": n, "latent": n - k - n_play,
                              "play": n_play, "trainers": k, "processes": args.processes,
                              "stay_minutes": args.stay_minutes, "away_minutes": args.away_minutes,
                              "reload_share": args.reload_share, "trainer_minutes": args.trainer_minutes,
                              "train": f"preset={args.train_preset} steps={args.train_steps}",
                              "server_env": env, "answer_timeout_s": ANSWER_TIMEOUT_S, "kill_at_min": args.kill_at}}
    rng = random.Random(args.seed)
    pids = (lambda: servers.server.pids) if isinstance(servers.server, ClassServers) else (lambda: servers.pids)
    monitor = SoakMonitor(pids, servers.runs_dir)
    try:
        await warm_up_all(servers)
        lecture = Lecture(asyncio.Event(), time.monotonic())
        start = lecture.start
        sampler = asyncio.create_task(monitor.run(lecture.stop))
        kill: dict = {}
        helpers = []
        if isinstance(servers.server, ClassServers):  # as serve_class.py: an app process that ends starts again
            helpers.append(asyncio.create_task(keep_processes_up(servers.server, lecture, kill)))
        if args.kill_at is not None:
            helpers.append(asyncio.create_task(kill_a_process(servers.server, args.kill_at * 60, lecture, kill)))
        roles = ["play"] * n_play + ["latent"] * (n - k - n_play)
        rng.shuffle(roles)
        join = args.join_minutes * 60
        tasks = [asyncio.create_task(trainer(f"trainer{i + 1}", servers, args, random.Random(rng.random()), lecture,
                                             rng.uniform(0, join / 3)))  # they come first: the run takes a while
                 for i in range(k)]
        tasks += [asyncio.create_task(visitor(f"{role}{i + 1}", role, servers, args, random.Random(rng.random()),
                                              lecture, rng.uniform(0, join)))
                  for i, role in enumerate(roles)]
        end = start + args.soak * 60
        while time.monotonic() < end:  # progress on stderr, one line a window
            await asyncio.sleep(min(args.window_minutes * 60, max(0.0, end - time.monotonic())))
            r = monitor.readings[-1] if monitor.readings else None
            print(f"soak: minute {(time.monotonic() - start) / 60:.1f}, {len(lecture.sessions)} sessions so far, "
                  f"{sum(len(s.stats.errors) for _, s in lecture.sessions)} errors, "
                  f"RSS {r and sum(r.rss_mb.values()):.0f} MB (+{r and sum(r.children_mb.values()):.0f} MB children), "
                  f"disk {r and r.disk_mb} MB", file=sys.stderr, flush=True)
        lecture.stop.set()
        await asyncio.gather(*helpers, return_exceptions=True)
        monitor.sample()
        await asyncio.wait(tasks, timeout=ANSWER_TIMEOUT_S + 20)
        for _, s in lecture.sessions:
            await s.close()
        for t in tasks:
            t.cancel()
        await sampler
        w = args.window_minutes * 60
        bounds = [(start + i * w, min(end, start + (i + 1) * w)) for i in range(math.ceil(args.soak * 60 / w - 1e-9))]
        rows = [window_row(i, a, b, start, lecture, monitor.readings, args.runs_quota_mb)
                for i, (a, b) in enumerate(bounds)]
        out["windows"] = rows
        out["trainer_visits"] = lecture.cycles
        out["events"] = {what: sum(e[1] == what for e in lecture.events)
                         for what in dict.fromkeys(e[1] for e in lecture.events)}
        out["sessions_opened"] = len(lecture.sessions)
        errors = sorted((at, e) for _, s in lecture.sessions for at, e in zip(s.stats.error_at, s.stats.errors))
        out["errors"] = {"count": len(errors), "first": [e for _, e in errors[:5]]}
        if args.kill_at is not None:
            out["kill"] = kill_summary(kill, lecture, servers.runs_dir)
    finally:
        problems = []
        if servers.server is not None:
            problems = [m.group(0) for m in LOG_PROBLEM.finditer(servers.server.log_tail(10**9))]
        out["server_log_problems"] = {"count": len(problems), "first": problems[:3]}
        servers.stop()
    out["goals"] = soak_goals(out["windows"], args, len(problems))
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out["client_cpu_s_total"] = round(time.process_time(), 2)
    if args.csv:
        write_csv(out["windows"], Path(args.csv))
    if args.plot:
        from plot_soak import plot  # matplotlib only when asked

        plot(out["windows"], Path(args.plot), title=out["command"])
    for name, goal in out["goals"].items():
        print(f"{'PASS' if goal['pass'] else 'FAIL'}  {name}: {goal['why']}", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", help="N per round, in order (default 10 20 30 40); with "
                    "--soak one N, the students of the lecture (default 30)")
    ap.add_argument("--seconds", type=float, default=30.0, help="measurement window per round")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds of activity before the window")
    ap.add_argument("--after", type=float, default=10.0, help="seconds after the students left to read RSS")
    ap.add_argument("--final-wait", type=float, default=0.0,
                    help="after the last round, wait this long more and read RSS again (e.g. 130: past "
                         "server.disconnectedSessionTTL, 120 s, when disconnected sessions may be dropped)")
    ap.add_argument("--play-share", type=float, default=0.2, help="share of students on the 1-D Play")
    ap.add_argument("--train", action="store_true", help="one more student runs a training (Start, Images / s)")
    ap.add_argument("--stagger", type=float, default=0.05, help="seconds between two students' connections")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--distinct-seeds", action="store_true",
                    help="each latent student opens the page on its own seed (default: all on seed 0, the page's "
                         "default, as a class following the lecture)")
    ap.add_argument("--url", help="an already running server (default: start one on a free loopback port)")
    ap.add_argument("--server-pid", type=int, nargs="+",
                    help="with --url: the server's PID (several: each app process), for CPU and memory")
    ap.add_argument("--processes", type=int, default=1,
                    help="app processes behind HAProxy with sticky sessions (scripts/serve_class.py); 1: one "
                         "plain server")
    soak = ap.add_argument_group("soak", "a whole lecture, measured per window (--soak MINUTES)")
    soak.add_argument("--soak", type=float, metavar="MINUTES", help="run one lecture this long instead of rounds")
    soak.add_argument("--window-minutes", type=float, default=5.0, help="the report's windows")
    soak.add_argument("--join-minutes", type=float, default=5.0, help="students join spread over this")
    soak.add_argument("--trainers", type=int, default=3, help="students (of --sessions) on the training page")
    soak.add_argument("--stay-minutes", type=float, default=15.0,
                      help="a stay on a page lasts 0.5-1.5 times this, then a reload or a leave")
    soak.add_argument("--away-minutes", type=float, default=3.0,
                      help="a student who left (or abandoned a run) comes back after 0.5-1.5 times this")
    soak.add_argument("--reload-share", type=float, default=0.5, help="share of stays that end in a reload")
    soak.add_argument("--trainer-minutes", type=float, default=3.0,
                      help="a trainer's visit: 0.5-1.5 times this of watching, around a Pause, Save and Resume")
    soak.add_argument("--train-preset", default="small", help="the trainers' preset (?preset=)")
    soak.add_argument("--train-steps", type=int, default=3000, help="the trainers' runs (?steps=)")
    soak.add_argument("--runs-quota-mb", type=int, default=200,
                      help="the servers' GAN_MAX_RUNS_MB (their runs folder is a temporary one)")
    soak.add_argument("--orphan-timeout", type=float, default=120.0,
                      help="the servers' GAN_ORPHAN_TIMEOUT: an abandoned run keeps its slot this long")
    soak.add_argument("--runs-dir", type=Path, help="with --url: the server's GAN_RUNS_DIR, for the disk figures")
    soak.add_argument("--kill-at", type=float, metavar="MINUTES",
                      help="kill app process 0 with SIGKILL at this minute (needs --processes 2 or more); see the "
                           "module's docstring")
    soak.add_argument("--csv", help="write the windows to this CSV file")
    soak.add_argument("--plot", help="draw the windows into this PNG (scripts/plot_soak.py)")
    args = ap.parse_args()
    if args.soak is None:
        args.sessions = args.sessions or [10, 20, 30, 40]
    else:
        args.sessions = args.sessions or [30]
        problem = (len(args.sessions) != 1 and "--soak takes one --sessions number, e.g. --sessions 30"
                   or args.soak <= 0 and "--soak must be a positive number of minutes"
                   or not 0 < args.window_minutes <= args.soak and "--window-minutes must be within the soak"
                   or not 0 <= args.join_minutes < args.soak and "--join-minutes must be shorter than the soak"
                   or not 0 <= args.trainers <= args.sessions[0] and "--trainers must be between 0 and --sessions"
                   or args.train_steps <= 0 and "--train-steps must be positive"
                   or args.kill_at is not None and not 0 < args.kill_at < args.soak
                   and "--kill-at must be a minute inside the soak"
                   or args.kill_at is not None and (args.processes < 2 or args.url)
                   and "--kill-at needs --processes 2 or more started by this script (the class goes on on the others)")
        if problem:
            ap.error(problem)
    # SIGTERM (timeout, kill) ends the run through main_async's finally: the server it started is stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run = soak_async if args.soak is not None else main_async
    print(json.dumps(asyncio.run(run(args)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
