"""The compare view: the baseline and one broken DCGAN guideline side by side, scrubbed in sync.

It replays the shipped ablation study (``gan_core.ablation_study``: the same run, seed, data and batch
order, one guideline different, trained with ``train --ablate``): each side its fixed-noise grid, its
loss and D(x)/D(G(z)) charts and its classifier readings at the step the one slider shows; below, the
measured table over seeds with what it cannot see. Or it trains the same pair now, both runs at once
(``views._train_compare_live``). ``/train?mode=compare&ablate=NAME`` opens it on that ablation,
``&compare=live`` on the live pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import streamlit as st

from gan_core.ablation_study import BASELINE, StudyPlan, applicable, load_study, shipped_study_path, spread_text, verdict
from gan_core.ablations import ABLATIONS
from gan_core.class_shares import read_class_shares
from gan_core.recording import Recording, RecordingError
from views._i18n import error_text, t, user_text
from views._train_pictures import curves, smoothing_control
from views._train_replay import REPLAY_REFRESH_SECONDS, Player, cached_recording, recorded_grid
from views._settings import PERSIST
from views._train_settings import COMPARE_ABLATION, COMPARE_SOURCE, COMPARE_SOURCES, default

COMPARE_PLAYER = Player("train_compare_step", "train_compare_seconds", "train_compare_play", "train_compare_anchor",
                        "train_compare_shown")


def label(name: str, short: bool = False) -> str:
    """A run of the study by what differs: the baseline, or the guideline its ablation breaks (``short``:
    a few words, for a select box or a table cell)."""
    if name == BASELINE:
        return t("train.compare.baseline_short" if short else "train.compare.baseline")
    ablation = ABLATIONS[name]
    return error_text(ablation.short if short else ablation.guideline, markdown=False)


def _load(folder: Path) -> tuple[Recording, object] | None:
    metrics = folder / "metrics.csv"
    try:
        rec = cached_recording(str(folder), metrics.stat().st_mtime)
    except (RecordingError, OSError) as exc:
        st.warning(t("train.replay.unusable", reason=error_text(exc) if isinstance(exc, RecordingError)
                     else user_text(folder.name)))
        return None
    return rec, read_class_shares(folder)


def readings(confidence: float | None, covered: int | None, classes: int | None) -> None:
    """One side's classifier readings: the confident share and the classes generated ("–" before the first)."""
    left, right = st.columns(2)
    left.metric(t("train.compare.confidence"), "–" if confidence is None else f"{confidence:.2f}")
    right.metric(t("train.compare.classes"), "–" if covered is None else f"{int(covered)} / {classes}")


def _side(rec: Recording, shares, step: int) -> None:
    """One side's classifier readings and grid at ``step``."""
    i = shares.at(step) if shares is not None else None
    if i is None:
        readings(None, None, None)
    else:
        readings(shares.summary["confidence"][i], shares.summary["classes_covered"][i], shares.shares.shape[1])
    recorded_grid(rec, rec.frame_index_at(step))


def _compare_view(study_path: str, name: str, seed: int) -> None:
    root = Path(study_path)
    loaded = [_load(root / f"{n}-seed{seed}") for n in (BASELINE, name)]
    if any(x is None for x in loaded):
        return
    step = COMPARE_PLAYER.controls(max(rec.last_step for rec, _ in loaded))
    smoothing = smoothing_control()
    # Three rows of two columns: the labels, then the readings and grids (level with each other however
    # long a label is), then the charts. Both grids before either side's charts: the browser draws each
    # element as it arrives, and charts between the grids held the right grid half a second behind the left.
    for column, run in zip(st.columns(2, gap="medium"), (BASELINE, name)):
        column.markdown(f"**{label(run)}**")
    for column, (rec, shares) in zip(st.columns(2, gap="medium"), loaded):
        with column:
            _side(rec, shares, step)
    for column, side, (rec, _) in zip(st.columns(2, gap="medium"), ("baseline", "ablated"), loaded):
        with column:
            curves(rec.history_until(step), f"train_compare_{side}", smoothing=smoothing, stacked=True)


def _table(study: dict) -> None:
    summary, plan = study["summary"], study["plan"]
    rows = []
    for name, s in summary.items():
        steps = ", ".join(t("train.compare.never") if v is None else f"{v:,}" for v in s["steps_to_digits"])
        against = "–" if name == BASELINE else t(f"train.compare.verdict.{verdict(summary, name)}")
        rows.append({t("train.compare.col_run"): label(name, short=True),
                     t("train.compare.col_confidence"): spread_text(s["confidence"], 2, "–"),
                     t("train.compare.col_fid"): spread_text(s["fid"], 1, "–"), t("train.compare.col_steps"): steps,
                     t("train.compare.col_diverged"): f"{s['diverged']}/{s['seeds']}",
                     t("train.compare.col_collapsed"): f"{s['collapsed']}/{s['seeds']}",
                     t("train.compare.col_against"): against})
    st.subheader(t("train.compare.table_title"))
    st.caption(t("train.compare.table_about", preset=plan["preset"], dataset=user_text(plan["dataset"]),
                 steps=f"{plan['steps']:,}", seeds=len(plan["seeds"])))
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(t("train.compare.cannot_see"))


def _choose(names: list[str]) -> str:
    """The ablation shown beside the baseline (a link's ``ablate`` when it names one of ``names``)."""
    if st.session_state.get(COMPARE_ABLATION) not in names:
        st.session_state[COMPARE_ABLATION] = names[0]
    return st.selectbox(t("train.compare.choose"), names, key=COMPARE_ABLATION,
                        format_func=lambda n: label(n, short=True))


def compare(live: Callable[[str, bool], None]) -> None:
    """The compare mode: the shipped study's baseline and one ablation side by side, then the table; or
    (``COMPARE_SOURCE`` "live") the same pair trained now, drawn by ``live(name, True)``; the replay calls
    ``live(name, False)`` (a live pair of another ablation ends)."""
    default(COMPARE_SOURCE, COMPARE_SOURCES[0])
    source = st.radio(t("train.compare.source"), COMPARE_SOURCES, key=COMPARE_SOURCE, horizontal=True,
                      format_func=lambda s: t(f"train.compare.source_option.{s}"), persist_state=PERSIST)
    if source == "live":
        live(_choose([n for n in applicable(StudyPlan()) if n != BASELINE]), True)
        return
    st.caption(t("train.compare.intro"))
    path = shipped_study_path()
    study = load_study(path) if path.is_dir() else None
    if study is None:
        st.info(t("train.compare.absent", name=user_text(path.name)))
        return
    names = [n for n in study["summary"] if n != BASELINE and n in ABLATIONS]
    if not names:
        st.info(t("train.compare.absent", name=user_text(path.name)))
        return
    name = _choose(names)
    live(name, False)
    seed = int(study["plan"]["seeds"][0])
    folder = path / f"{BASELINE}-seed{seed}"
    try:
        last = cached_recording(str(folder), (folder / "metrics.csv").stat().st_mtime).last_step
    except (RecordingError, OSError):
        last = int(study["plan"]["steps"])
    playing = COMPARE_PLAYER.start(last)
    st.fragment(_compare_view, run_every=REPLAY_REFRESH_SECONDS if playing else None)(str(path), name, seed)
    _table(study)
