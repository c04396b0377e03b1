"""The runs folder's quota (gan_core.runs_quota): measured whole, abandoned runs deleted oldest first,
runs in use kept, an over-quota with nothing deletable reported, nothing followed out of the root."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gan_core import runs_quota
from gan_core.runs_quota import (IN_USE_FILE, IN_USE_SECONDS, InUse, RunsFull, clean, make_room, mark_in_use,
                                 measure)

MB = 1_000_000
HOUR = 3600.0


def set_age(path: Path, seconds: float) -> None:
    """Make everything under ``path`` (and ``path``) last changed ``seconds`` ago, links included as links."""
    when = time.time() - seconds
    for p in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [path]:
        os.utime(p, (when, when), follow_symlinks=False)


def make_run(root: Path, name: str, mb: float = 1.0, age: float = HOUR) -> Path:
    """A run folder of ``mb`` megabytes (a config and a sample grid) last changed ``age`` seconds ago."""
    folder = root / name
    (folder / "samples").mkdir(parents=True)
    size = int(mb * MB)
    (folder / "config.json").write_bytes(b"c" * (size // 2))
    (folder / "samples" / "step_000001.png").write_bytes(b"p" * (size - size // 2))
    set_age(folder, age)
    return folder


@pytest.fixture
def root(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs))
    monkeypatch.delenv("GAN_MAX_RUNS_MB", raising=False)
    return runs


def names(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_measure_counts_every_byte_and_lists_runs_oldest_first(root):
    make_run(root, "b", mb=2, age=2 * HOUR)
    make_run(root, "a", mb=1, age=3 * HOUR)
    make_run(root, "c", mb=0.5, age=60)
    (root / "stray.txt").write_bytes(b"s" * 1000)  # counted, never a run
    usage = measure(root)
    assert usage.used == 3.5 * MB + 1000
    assert [r.name for r in usage.runs] == ["a", "b", "c"]
    assert [r.size for r in usage.runs] == [MB, 2 * MB, MB // 2]
    assert [r.in_use for r in usage.runs] == [False, False, True]
    assert usage.quota is None and not usage.over


def test_without_a_quota_nothing_is_ever_deleted(root):
    for i in range(3):
        make_run(root, f"run{i}", mb=5, age=10 * HOUR)
    cleaning = clean(root)
    assert cleaning.deleted == () and names(root) == ["run0", "run1", "run2"]
    make_room(root / "run0")  # no quota: never refused


def test_abandoned_runs_are_deleted_oldest_first_until_under_the_quota(root, monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "3")
    for i, age in enumerate([5, 4, 3, 2, 1]):  # run0 is the oldest
        make_run(root, f"run{i}", age=age * HOUR)
    cleaning = clean(root)
    assert cleaning.deleted == ("run0", "run1")
    assert names(root) == ["run2", "run3", "run4"]
    assert cleaning.usage.used == 3 * MB and not cleaning.still_over
    assert clean(root).deleted == ()  # under the quota: nothing more


def test_runs_in_use_are_kept_and_the_next_oldest_goes_instead(root, monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "2")
    watched = make_run(root, "a-watched", age=9 * HOUR)
    training = make_run(root, "b-training", age=8 * HOUR)
    make_run(root, "c-old", age=7 * HOUR)
    make_run(root, "d-newer", age=6 * HOUR)
    mark_in_use(watched)  # a page shows it: its marker is fresh, its files are old
    with open(training / "metrics.csv", "a") as f:  # the command line writes a row every step
        f.write("1,0.5\n")
    cleaning = clean(root)
    assert cleaning.deleted == ("c-old", "d-newer")
    assert names(root) == ["a-watched", "b-training"]
    assert (watched / "config.json").is_file() and (training / "samples" / "step_000001.png").is_file()


def test_over_the_quota_with_every_run_in_use_is_reported_and_a_save_refused(root, monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "1")
    make_run(root, "a", mb=1, age=60)
    make_run(root, "b", mb=1, age=IN_USE_SECONDS / 2)
    assert runs_quota.choose_deletions(measure(root)) == []  # both in use: none to choose
    cleaning = clean(root)
    assert cleaning.deleted == () and cleaning.still_over and cleaning.usage.used == 2 * MB
    assert names(root) == ["a", "b"]
    with pytest.raises(RunsFull, match=r"over its quota \(2.0 MB used of 1.0 MB, GAN_MAX_RUNS_MB\).*new-run' was not saved") as info:
        make_room(root / "new-run")
    assert "할당량" in info.value.localized("ko")
    make_room(root.parent / "elsewhere")  # a folder outside the runs folder is not its business


def test_make_room_cleans_abandoned_runs_before_a_save(root, monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "2")
    make_run(root, "old", mb=2, age=HOUR)
    make_run(root, "current", mb=1, age=1)
    make_room(root / "current")
    assert names(root) == ["current"]


def test_links_are_never_followed_out_of_the_root(root, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "1")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.bin").write_bytes(b"x" * (3 * MB))
    (root / "linked-run").symlink_to(outside, target_is_directory=True)  # a link directly under the root
    run = make_run(root, "abandoned", mb=2, age=5 * HOUR)
    (run / "data").symlink_to(outside, target_is_directory=True)  # a link inside a run
    (run / "file-link").symlink_to(outside / "precious.bin")
    set_age(run, 5 * HOUR)
    usage = measure(root)
    assert [r.name for r in usage.runs] == ["abandoned"]  # the link is not a run
    assert usage.used < 2.1 * MB  # the 3 MB outside are not counted, through either link
    cleaning = clean(root)
    assert cleaning.deleted == ("abandoned",)
    assert names(root) == ["linked-run"]  # the link itself is not deleted ...
    assert (outside / "precious.bin").stat().st_size == 3 * MB  # ... and nothing it points to


def test_leftovers_of_a_killed_cleaning_are_removed_and_hidden_folders_kept(root, monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "10")
    make_run(root, ".deleting-old", mb=1, age=60)  # renamed, then the cleaner was killed
    make_run(root, ".cache", mb=1, age=10 * HOUR)  # not a run: counted, never deleted
    assert measure(root).leftovers == (".deleting-old",)
    assert [r.name for r in measure(root).runs] == []
    cleaning = clean(root)
    assert names(root) == [".cache"] and cleaning.usage.used == MB


def test_a_run_used_again_after_it_was_measured_is_kept(root, monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "1")
    make_run(root, "a", mb=2, age=HOUR)
    usage = measure(root)
    [chosen] = runs_quota.choose_deletions(usage)
    mark_in_use(root / "a")  # a student opens it between the measurement and the deletion
    assert not runs_quota._delete_run(root, chosen)
    assert names(root) == ["a"]


def test_mark_in_use_touches_at_most_every_interval_and_creates_no_folder(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    marker = folder / IN_USE_FILE
    mark_in_use(folder)
    assert marker.is_file()
    old = time.time() - 30
    os.utime(marker, (old, old))
    mark_in_use(folder, every=60)  # touched 30 s ago: left alone
    assert marker.stat().st_mtime == pytest.approx(old)
    mark_in_use(folder, every=10)
    assert marker.stat().st_mtime > old + 20
    mark_in_use(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_in_use_keeps_touching_while_the_block_runs(root, tmp_path):
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    with InUse(elsewhere, every=0.01):  # outside the runs folder: never cleaned, so never marked
        pass
    assert not (elsewhere / IN_USE_FILE).exists()
    folder = root / "run"
    folder.mkdir()
    marker = folder / IN_USE_FILE
    with InUse(folder, every=0.01):
        assert marker.is_file()  # at once, before the first step
        old = time.time() - HOUR
        os.utime(marker, (old, old))
        deadline = time.time() + 30
        while marker.stat().st_mtime < old + 1 and time.time() < deadline:
            time.sleep(0.01)
    assert marker.stat().st_mtime > old + 1
