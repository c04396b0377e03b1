"""Several browser sessions against one server: a closed tab frees its training slot and thread, and
five sessions at once (one training, four exploring) neither fail nor see each other's state, and
leave the server's memory and thread count near where they were.

The server's figures come from /proc/<pid>/status (resident memory, threads); the load figures are
written to test-output/load-figures.json and printed.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from gan_core import latent
from st_browser import (ORPHAN_TIMEOUT_S, OUTPUT_DIR, REPO, assert_no_errors, button, exception_count, image_pixels,
                        image_src_with_caption, main_text, open_from_nav, screenshot, set_number, wait_for_app, wait_idle, wait_until)
from test_distributions_page import PAGE as DISTRIBUTIONS, steps_shown
from test_train_page import PAGE as TRAIN, start_training, status_line, step, stop_training

pytestmark = pytest.mark.e2e

LATENT = "Explore the latent space"
MAIN_IMAGE = "G(z)"
SHIPPED = REPO / "assets" / "generator-mnist5k"  # the latent page's default generator
LOAD_SECONDS = 45  # how long the five sessions work at once
RSS_MARGIN_MB = 300  # torch and Streamlit keep caches (allocator arenas, cached figures, media)
THREAD_MARGIN = 1  # (idle web-server workers are pruned before counting)


def open_session(new_context, server, title: str):
    """A new browser session (context) with a page open on ``title``."""
    page = new_context().new_page()
    page.goto(server.url)
    wait_for_app(page)
    open_from_nav(page, title)
    return page


def slot_free(page) -> bool:
    """On the training page of a session without a run: does the server report no run going on?"""
    page.reload()
    wait_for_app(page)
    return "0 running now" in main_text(page)


def test_a_closed_session_frees_its_training_slot_and_thread(new_context, server):
    trainer = open_session(new_context, server, TRAIN)
    start_training(trainer)  # a first run starts torch's own threads, which stay: count after it
    stop_training(trainer)
    threads_idle = server.settled_threads()
    start_training(trainer)
    threads_training = server.proc_status()["threads"]
    assert threads_training > threads_idle
    trainer.context.close()  # the tab is gone: nothing heartbeats the run any more
    closed_at = time.monotonic()

    # another student can Start (the server allows one run at a time) once the orphan is noticed
    other = open_session(new_context, server, TRAIN)
    wait_until(lambda: slot_free(other), ORPHAN_TIMEOUT_S + 60, interval_s=1,
               message="the closed session's run to give back its slot")
    freed_after = time.monotonic() - closed_at
    start_training(other)
    assert_no_errors(other)
    screenshot(other, "sessions-slot-reused")
    stop_training(other)
    other.context.close()
    wait_until(lambda: server.pruned_threads() <= threads_idle, 60, interval_s=1,
               message=f"the thread count to come back to {threads_idle} (training {threads_training}, "
                       f"now {server.proc_status()['threads']})")
    print(f"\nslot freed {freed_after:.1f} s after the tab closed (orphan timeout {ORPHAN_TIMEOUT_S} s); "
          f"server threads idle {threads_idle}, training {threads_training}, after {server.pruned_threads()}")


# --- the queue: a full server makes the next student wait, then starts their run -------------------------

def test_a_second_student_waits_in_the_queue_and_starts_by_itself_when_the_slot_frees(new_context, server):
    first = open_session(new_context, server, TRAIN)
    start_training(first)  # the server allows one run at a time: the slot is taken
    second = open_session(new_context, server, TRAIN)
    set_number(second, "Generator steps", 100_000)
    button(second, "Start").click()
    wait_until(lambda: "number 1** in the queue" in main_text(second) or "number 1 in the queue" in main_text(second),
               60, message="the second student's place in the queue")
    text = main_text(second)
    assert "You are in the queue" in text and ("Estimated wait" in text or "cannot be estimated" in text)
    assert button(second, "Leave the queue").is_visible() and not button(second, "Start").count()
    assert_no_errors(second)
    screenshot(second, "sessions-queue-waiting")
    stop_training(first)
    # nobody touches the second page: its own refresh notices the free slot and starts the run
    wait_until(lambda: status_line(second) == "Training" and step(second) > 0, 90,
               message="the queued run to start by itself")
    assert "your run has started" in main_text(second)
    assert_no_errors(second)
    stop_training(second)
    first.context.close()
    second.context.close()


# --- load: five sessions at once ------------------------------------------------------------------------

def shipped_caption(seed: int) -> str:
    """The caption of the shipped generator's G(z) for a seed: it names ‖z‖, which the seed decides."""
    config = json.loads((SHIPPED / "config.json").read_text())
    z = latent.sample_latents(1, config["model"]["latent_dim"], seed, config["train"]["prior"])[0]
    return f"G(z), ‖z‖ = {float(z.norm()):.2f}"


def show_seed(page, seed: int):
    """On the latent page: set the seed, wait for the image of that seed's z; its pixels."""
    set_number(page, "Seed (sets z)", seed)
    caption = shipped_caption(seed)
    wait_until(lambda: image_src_with_caption(page, caption), 60, message=f"the image of seed {seed} ({caption})")
    wait_idle(page)
    assert int(page.get_by_label("Seed (sets z)", exact=True).input_value()) == seed, "the seed changed"
    return image_pixels(page, caption)


def image_difference(a, b) -> float:
    """Mean absolute pixel difference (0..255). The same z renders almost alike, not bit for bit:
    float sums may run in another order when a training run changes torch's thread count."""
    return float(abs(a - b).mean()) if a.shape == b.shape else 255.0


SAME_IMAGE = 2.0  # mean pixel difference below which two renders are the same image


def warm_up(new_context, server) -> None:
    """Use every page once (and train a little), so imports, first-use caches and torch's own
    threads count in the baseline; wait until no run is left from earlier tests."""
    page = open_session(new_context, server, LATENT)
    assert image_src_with_caption(page, MAIN_IMAGE)
    open_from_nav(page, DISTRIBUTIONS)
    open_from_nav(page, TRAIN)
    wait_until(lambda: slot_free(page), ORPHAN_TIMEOUT_S + 60, interval_s=2,
               message="no run left over from earlier tests")
    start_training(page)
    stop_training(page)
    page.context.close()


@pytest.mark.slow  # about three minutes; still part of the default run (pytest.ini selects no markers)
def test_five_sessions_at_once_no_errors_no_cross_talk_and_memory_comes_back(new_context, server):
    warm_up(new_context, server)
    baseline = {"rss_kb": server.proc_status()["rss_kb"], "threads": server.settled_threads()}
    peak = dict(baseline)

    def sample() -> None:
        now = server.proc_status()
        for key in peak:
            peak[key] = max(peak[key], now[key])

    trainer = open_session(new_context, server, TRAIN)
    start_training(trainer)
    explorers_latent = {}  # page -> {seed: the image it showed for that seed the first time}
    for seed in (11, 22):
        page = open_session(new_context, server, LATENT)
        explorers_latent[page] = {seed: show_seed(page, seed)}
    first_images = [next(iter(seen.values())) for seen in explorers_latent.values()]
    assert image_difference(*first_images) > 5 * SAME_IMAGE, "two seeds gave the same image"
    explorers_1d = []
    for _ in range(2):
        page = open_session(new_context, server, DISTRIBUTIONS)
        page.get_by_role("tab", name=re.compile("Train a 1-D GAN")).click()
        wait_idle(page)
        button(page, "Play").click()
        explorers_1d.append((page, steps_shown(page)))
    everyone = [trainer, *explorers_latent, *(p for p, _ in explorers_1d)]
    sample()

    # everyone works at once for a bounded time: the latent explorers switch seeds, the 1-D ones play
    started, rounds, trainer_start = time.monotonic(), 0, step(trainer)
    while time.monotonic() - started < LOAD_SECONDS:
        for page, seen in explorers_latent.items():
            own = min(seen)  # each session switches between its own seed and seed + 100
            seed = own + 100 * (rounds % 2 == 0)
            image = show_seed(page, seed)
            difference = image_difference(seen.setdefault(seed, image), image)
            assert difference < SAME_IMAGE, f"session {own} shows another image for seed {seed} ({difference:.1f})"
        for page in everyone:
            assert exception_count(page) == 0, f"an exception on {page.url}"
        sample()
        rounds += 1
    for page in everyone:
        assert_no_errors(page)
    screenshot(trainer, "load-trainer")

    # each session kept its own state
    trainer_steps = step(trainer) - trainer_start
    assert status_line(trainer) == "Training" and trainer_steps > 0
    for page, seen in explorers_latent.items():
        assert len(seen) == 2 and image_difference(*seen.values()) > 5 * SAME_IMAGE
    screenshot(next(iter(explorers_latent)), "load-latent-explorer")
    for page, before in explorers_1d:
        assert steps_shown(page)[1] > before[1], "a 1-D session did not train while playing"
        button(page, "Pause").click()
    for page in [*explorers_latent, *(p for p, _ in explorers_1d)]:
        open_from_nav(page, TRAIN)
        text = main_text(page)
        assert "then press Start" in text, "an explorer sees a run"
        assert "1 running now" in text and status_line(page) == "", "an explorer sees a run"
        assert not button(page, "Start").is_disabled()
    sample()

    # all close: the trainer's run is orphaned and stops; memory and threads come back
    for page in everyone:
        page.context.close()
    closed_at = time.monotonic()
    checker = open_session(new_context, server, TRAIN)
    wait_until(lambda: slot_free(checker), ORPHAN_TIMEOUT_S + 60, interval_s=2,
               message="the closed trainer's run to stop")
    checker.context.close()
    limit_kb, limit_threads = baseline["rss_kb"] + RSS_MARGIN_MB * 1024, baseline["threads"] + THREAD_MARGIN
    deadline = time.monotonic() + 90
    while (after := {"threads": server.pruned_threads(), "rss_kb": server.proc_status()["rss_kb"]})["rss_kb"] > limit_kb \
            or after["threads"] > limit_threads:
        if time.monotonic() > deadline:
            break  # the figures are written first, then the asserts below fail
        time.sleep(1.0)
    figures = {
        "sessions": len(everyone), "load_seconds": LOAD_SECONDS, "rounds": rounds,
        "trainer_steps_during_load": trainer_steps,
        "rss_mb": {"baseline": round(baseline["rss_kb"] / 1024, 1), "peak": round(peak["rss_kb"] / 1024, 1),
                   "after": round(after["rss_kb"] / 1024, 1)},
        "threads": {"before": baseline["threads"], "peak": peak["threads"], "after": after["threads"]},
        "seconds_to_recover": round(time.monotonic() - closed_at, 1),
    }
    OUTPUT_DIR.mkdir(exist_ok=True)
    (OUTPUT_DIR / "load-figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nload figures:", json.dumps(figures))
    assert after["rss_kb"] <= limit_kb, f"memory did not come back near the baseline: {figures['rss_mb']}"
    assert after["threads"] <= limit_threads, f"threads did not come back: {figures['threads']}"
