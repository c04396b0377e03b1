"""The 2-D page's side-by-side compare: two runs from the page's settings and seed, one setting apart
(``gan_core.toy.toy2d_compare``: k = 1 vs k = 5, non-saturating vs minimax), stepping together, each
view labelled by its value of that setting. This module owns the compare's session-state keys."""

from __future__ import annotations

import streamlit as st

from gan_core.algorithm1 import TrainingDiverged
from gan_core.toy.toy2d_compare import COMPARISONS, Toy2DPair
from gan_core.toy.toy2d_train import Toy2DConfig
from views import _modes_view as view
from views import _plots2d as plots
from views._i18n import option_labels, t
from views._play import play_fragment, play_pause_button, set_playing
from views._settings import PERSIST
from views._svg import escape

PREFIX = "modes_cmp"  # Play's keys: modes_cmp_playing, modes_cmp_play / _pause, modes_cmp_error
CHOICE, PAIR, PAIR_KEY = "modes_compare", "modes_cmp_pair", "modes_cmp_pair_key"
OFF = "off"
CHOICES = [OFF, *COMPARISONS]
DEFAULTS = {CHOICE: OFF}
# Two runs and two views a frame, on a shared 2-core machine: fewer frames than the single view's Play,
# each training longer (with 20 ms a frame a first try made ~2 iterations a second; collapse takes ~500).
TICK_SECONDS, FRAME_TRAINING_SECONDS = 0.2, 0.1


def label(pair: Toy2DPair, side: int) -> str:
    """What the run on ``side`` (0 left, 1 right) is: its value of the setting compared."""
    comparison = pair.comparison
    value = comparison.values[side]
    if comparison.field == "loss":
        value = t(f"train.loss_name.{value}")
    return t(f"modes.compare.label.{comparison.name}", value=value)


def _pair(config: Toy2DConfig, points, source: tuple, reset: bool) -> Toy2DPair:
    """The session's pair: a new one for new settings, another comparison, a new target or Reset."""
    s = st.session_state
    key = (config, s[CHOICE], source)
    if s.get(PAIR) is None or reset or s.get(PAIR_KEY) != key:
        s[PAIR], s[PAIR_KEY] = Toy2DPair(config, s[CHOICE], points=points), key
    return s[PAIR]


def _draw(pair: Toy2DPair, playing: bool) -> None:
    """The two views side by side, each under its label: one HTML element while playing, Plotly paused."""
    layers = st.session_state[view.LAYERS] or []
    counters = [t("modes.counter", d=tr.d_steps, g=tr.g_steps) for tr in pair.trainers]
    if playing:
        halves = [f'<div style="flex:1 1 0;min-width:0"><p style="margin:0 0 0.4rem"><b>{escape(label(pair, i))}</b></p>'
                  f'{plots.view_html(view.frame_of(tr), layers, t("modes.fig.view_alt"), caption=counters[i])}</div>'
                  for i, tr in enumerate(pair.trainers)]
        st.html(f'<div class="modes-stage">{"".join(halves)}</div>')
        return
    for i, (column, trainer) in enumerate(zip(st.columns(2), pair.trainers)):
        with column:
            st.markdown(f"**{label(pair, i)}**")
            st.plotly_chart(plots.view_figure(view.frame_of(trainer), layers), key=f"modes_cmp_view_{i}")
            measured = trainer.measure()  # ~50 ms, paused only
            covered, n_modes = measured.get("modes_covered"), measured.get("n_modes")
            st.caption(counters[i] + (" " + t("modes.compare.covered", covered=int(covered), n=int(n_modes))
                                      if covered is not None and n_modes else ""))


def compare_section(config: Toy2DConfig, points, source: tuple) -> None:
    """The compare: which setting, its buttons, and the two runs (nothing more while it is off)."""
    s = st.session_state
    st.subheader(t("modes.compare.title"))
    st.selectbox(t("modes.compare.choose"), CHOICES, key=CHOICE, help=t("modes.compare.help"),
                 format_func=option_labels("modes.compare.option", CHOICES), persist_state=PERSIST)
    if s[CHOICE] == OFF:
        if s.get(f"{PREFIX}_playing"):
            set_playing(PREFIX, False)
        return
    if f"{PREFIX}_error" in s:
        st.error(t(s.pop(f"{PREFIX}_error")))
    playing = bool(s.get(f"{PREFIX}_playing", False))
    row = st.container(horizontal=True, key="modes_cmp_buttons", vertical_alignment="center")
    play_pause_button(row, PREFIX, playing, t("modes.play"), t("modes.pause"))
    step = row.button(t("modes.compare.step"), key="modes_cmp_step", help=t("modes.compare.step_help"))
    reset = row.button(t("modes.reset"), key="modes_cmp_reset", help=t("modes.reset_help"))
    try:
        pair = _pair(config, points, source, reset)
        if step:
            pair.step()
    except TrainingDiverged:
        set_playing(PREFIX, False)
        st.error(t("modes.diverged"))
        return
    st.caption(t("modes.compare.same"))
    play_fragment(PREFIX, TICK_SECONDS if playing else None, lambda: pair.run_for(FRAME_TRAINING_SECONDS),
                  draw=lambda playing_now: _draw(pair, playing_now), diverged_key="modes.diverged")()
