"""The judge on the training page: the independent two-sample judge (``gan_core.evaluation.two_sample``) on
the run's generator, in the background, and the report to hand in (``gan_core.report``).

The Judge button starts a ``BackgroundJob`` on a copy of the generator taken between two training steps;
a fragment polls its progress twice a second (the rest of the page stays usable) and has a Cancel button.
When the job ends the page reruns once to stop polling and shows the verdict: the accuracy with its 95%
interval and p-value, the gallery, copies and diversity, each with a sentence on what it means and what
it cannot see (the same sentences as the report), and a button to download the report.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from gan_core.background import BackgroundJob
from gan_core.evaluation.two_sample import JudgeCancelled, JudgeConfig, JudgeResult, judge_generator
from gan_core.images import make_grid
from gan_core.report import build_report, judge_sentences, record_from_snapshot, report_bytes
from gan_core.worker import TrainingRun
from views._i18n import current_language, error_text, t
from views._session_keys import TRAIN_RUN
from views._train_pictures import grid_png

# Session-state keys this module owns: the running job and the run it judges; the last verdict (a
# JudgeResult) and the run it belongs to; a sentence about the last job that did not end in a verdict.
JOB, JOB_RUN = "train_judge_job", "train_judge_job_run"
RESULT, RESULT_RUN, JUDGE_NOTE = "train_judge_result", "train_judge_result_run", "train_judge_note"
START, CANCEL, DL_REPORT = "train_judge_start", "train_judge_cancel", "train_judge_dl_report"
POLL_SECONDS = 0.5
DOWNLOAD = ":material/download:"
JUDGE_N = 1000  # real and generated images (fewer when the dataset is smaller)


def _start(run: TrainingRun) -> None:
    generator, model_config, info = run.snapshot_generator()  # a copy: training may go on meanwhile
    images = run.dataset.images
    config = JudgeConfig(n=min(JUDGE_N, len(images)))

    def work(should_stop, progress) -> JudgeResult:
        result = judge_generator(generator, model_config.latent_dim, images, config, prior=info["prior"],
                                 progress=progress, should_stop=should_stop)
        result.judge.update(data=info["dataset"], checkpoint_step=info["step"])
        return result

    st.session_state[JOB] = BackgroundJob(work, name="gan-judge")
    st.session_state[JOB_RUN] = run
    st.session_state.pop(JUDGE_NOTE, None)


def _collect(job: BackgroundJob) -> None:
    """Move an ended job's verdict (or its error, as a sentence) into the session."""
    st.session_state.pop(JOB, None)
    try:
        st.session_state[RESULT] = job.result()
        st.session_state[RESULT_RUN] = st.session_state.pop(JOB_RUN, None)
    except JudgeCancelled:
        st.session_state[JUDGE_NOTE] = ("info", t("train.judge.cancelled"))
    except ValueError as exc:  # LocalizedError: too few images, ...
        st.session_state[JUDGE_NOTE] = ("error", error_text(exc))


def _progress() -> None:
    """The running job's bar and Cancel button (a fragment rerun twice a second)."""
    job: BackgroundJob | None = st.session_state.get(JOB)
    if job is None:
        return
    if job.wait(0):
        _collect(job)
        st.rerun(scope="app")  # draws the verdict and stops this fragment's timer
    done, total = job.progress
    st.progress(min(1.0, done / total) if total else 0.0,
                text=t("train.judge.running", done=f"{done:,}", total=f"{total:,}"))
    if st.button(t("train.judge.cancel"), icon=":material/stop:", key=CANCEL):
        job.cancel()


def _tiles(images, captions: list[str], columns: int = 8) -> None:
    cols = st.columns(columns)
    for i, (image, caption) in enumerate(zip(images, captions)):
        grid = make_grid(image.unsqueeze(0).float().div(127.5).sub(1.0), nrow=1, padding=0)
        cols[i % columns].image(grid_png(grid, image.shape[-1]), caption=caption, width="stretch")


def _verdict(result: JudgeResult, run: TrainingRun) -> None:
    data = result.to_json()
    words = judge_sentences(data, current_language())
    two = data["two_sample"]
    lo, hi = two["ci95"]
    st.caption(t("report.judged_at", step=f"{result.judge['checkpoint_step']:,}", n=result.judge["n"]))
    cols = st.columns(3)
    cols[0].metric(t("train.judge.accuracy"), f"{two['accuracy']:.3f}", help=words["accuracy_means"])
    cols[1].metric(t("train.judge.interval"), f"{lo:.3f} – {hi:.3f}")
    cols[2].metric(t("train.judge.p_value"), f"{two['p_value']:.2g}")
    st.markdown(f"**{words['verdict']}**")
    st.caption(words["accuracy_means"])
    st.caption(words["accuracy_limit"])
    st.markdown(f"**{t('report.caught')}**")
    _tiles(result.images["caught"], [f"{g['p_fake']:.2f}" for g in data["gallery"]["caught"]])
    st.markdown(f"**{t('report.fooled')}**")
    _tiles(result.images["fooled"], [f"{g['p_fake']:.2f}" for g in data["gallery"]["fooled"]])
    st.caption(words["gallery_means"])
    st.markdown(f"**{t('report.copies')}** {words['copies']}")
    (st.warning if data["copies"]["flagged"] else st.success)(words["copies_verdict"])
    pairs = data["copies"]["closest_pairs"][:4]
    images = [im for pair in zip(result.images["copy_fakes"], result.images["copy_train"]) for im in pair]
    captions = [c for p in pairs for c in (t("report.fake"), t("report.train", d=f"{p['pixel_distance']:.3f}"))]
    _tiles(images[:2 * len(pairs)], captions)
    st.caption(words["copies_means"])
    st.markdown(f"**{t('report.diversity')}** {words['diversity']}")
    (st.warning if data["diversity"]["flagged"] else st.success)(words["diversity_verdict"])
    st.caption(words["diversity_means"])
    lang = current_language()
    snap = run.snapshot()
    st.download_button(t("train.judge.report"), icon=DOWNLOAD, key=DL_REPORT, mime="text/html",
                       file_name=f"report-{snap.config['preset']}-{Path(snap.dataset).stem}-{lang}.html",
                       data=lambda: report_bytes(build_report(record_from_snapshot(run.snapshot(), run.dataset),
                                                              result, lang)),
                       on_click="ignore")


def judge_section() -> None:
    """The Judge container under the results (nothing before a run exists)."""
    run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    if run is None:
        return
    with st.container(border=True):
        st.subheader(t("train.judge.title"))
        st.caption(t("train.judge.intro"))
        job = st.session_state.get(JOB)
        if job is not None and st.session_state.get(JOB_RUN) is not run:  # a new run replaced the judged one
            job.cancel()
            st.session_state.pop(JOB, None)
            job = None
        if job is None:
            if st.button(t("train.judge.start"), icon=":material/gavel:", key=START):
                _start(run)
                st.rerun()
        else:
            st.fragment(_progress, run_every=POLL_SECONDS)()
        note = st.session_state.get(JUDGE_NOTE)
        if note:
            getattr(st, note[0])(note[1])
        result = st.session_state.get(RESULT)
        if result is not None and st.session_state.get(RESULT_RUN) is run:
            _verdict(result, run)
