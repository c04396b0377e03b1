"""The report to hand in: ONE self-contained HTML file about a training run, in Korean or English.

It works offline and can be mailed: no external URL of any kind; the curves are inline SVG and every
image a ``data:`` URI (``MAX_BYTES`` bounds the file: the timelapse keeps as many frames as fit).
Sections: the dataset, the exact command that reproduces the run, the loss and D(x) / D(G(z))
curves, the fixed-noise grid and its timelapse, the independent judge's numbers with their meaning
in words (``gan_core.evaluation.two_sample``), its gallery, copies and diversity, and the time and
hardware.

    python -m gan_core report --checkpoint DIR --out report.html [--lang ko|en]

A ``RunRecord`` is what the report knows about a run: ``record_from_checkpoint`` reads a run folder
(config.json, metrics.csv, samples/), the training page builds one from its live run.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import platform
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import gan_core
from gan_core.evaluation.two_sample import JudgeResult
from gan_core.i18n import duration_text, normalize_language, translate
from gan_core.images import make_grid

MAX_BYTES = 5_000_000  # the whole file, to stay small enough to mail
TIMELAPSE_BUDGET = 2_500_000  # bytes of timelapse frames (the rest of the report is ~100-500 KB)
TIMELAPSE_FRAMES = 8
CHART_POINTS = 400  # points per curve (thinned evenly)


@dataclass
class RunRecord:
    """What the report shows about one run."""

    train_config: dict  # TrainConfig.to_dict()
    dataset: dict  # name, size, class_names (as a checkpoint stores it)
    image_size: int
    channels: int
    step: int
    history: dict[str, np.ndarray]  # step, loss_d, loss_g, d_real, d_fake (and elapsed) -> one value per step
    grids: list[tuple[int, np.ndarray]] = field(default_factory=list)  # the timelapse: (step, uint8 grid)
    device: str = ""
    elapsed: float | None = None  # seconds of training
    # the labelled classifier's numbers where the dataset has one (evaluate_checkpoint or quick_metrics keys)
    classifier_metrics: dict | None = None


def _timelapse_picks(count: int) -> list[int]:
    """Up to ``TIMELAPSE_FRAMES`` indices of ``count`` grids, evenly spaced, the first and last included."""
    return sorted({round(i * (count - 1) / max(1, TIMELAPSE_FRAMES - 1)) for i in range(TIMELAPSE_FRAMES)}) if count else []


def record_from_checkpoint(path: str | Path) -> RunRecord:
    """A run folder's record: its checkpoint's config, metrics.csv and samples/ (each optional but the config)."""
    from gan_core.checkpoint import load_checkpoint
    from gan_core.recording import RecordingError, load_recording

    ckpt = load_checkpoint(path)
    mc = ckpt.model_config
    history: dict[str, np.ndarray] = {"step": np.zeros(0)}
    grids: list[tuple[int, np.ndarray]] = []
    if Path(path).is_dir():
        try:
            rec = load_recording(path, growing=True)
            history = rec.history
            grids = [(rec.frame_steps[i], rec.frame_image(i)) for i in _timelapse_picks(len(rec.frame_steps))]
        except RecordingError:
            pass
    elapsed = history.get("elapsed")
    return RunRecord(train_config=ckpt.train_config, dataset=ckpt.dataset, image_size=mc.image_size,
                     channels=mc.channels, step=ckpt.step, history=history, grids=grids,
                     device=str(ckpt.train_config.get("device", "")),
                     elapsed=float(elapsed[-1]) if elapsed is not None and len(elapsed) else None)


def record_from_snapshot(snap, dataset) -> RunRecord:
    """A live run's record: a ``gan_core.worker.RunSnapshot`` and the run's ``ImageDataset``."""
    return RunRecord(train_config=dict(snap.config),
                     dataset={"name": snap.dataset, "size": len(dataset.images),
                              "class_names": list(getattr(dataset, "class_names", []) or [])},
                     image_size=int(snap.config["image_size"]), channels=int(snap.config["channels"]), step=snap.step,
                     history=snap.history, grids=[snap.grids[i] for i in _timelapse_picks(len(snap.grids))], device=snap.device,
                     elapsed=snap.elapsed, classifier_metrics=snap.metrics)


# --- the command that reproduces a run -------------------------------------------------------------------

def train_command(config: dict, steps: int, out: str = "runs/reproduced") -> str:
    """``python -m gan_core train ...`` with every setting of ``config`` (a TrainConfig dict) spelled out."""
    from gan_core.settings import command_line_flags
    from gan_core.trainer import TrainConfig

    c = dict(config)
    args = ["python", "-m", "gan_core", "train", "--dataset", str(c.get("dataset", "")),
            "--preset", str(c.get("preset", "")), "--steps", str(steps),
            *command_line_flags(c, TrainConfig, skip=("dataset", "preset"))]
    betas = c.get("betas_g") or c.get("betas_d")
    if betas:
        args += ["--beta1", str(betas[0])]
    args += ["--out", out]
    return shlex.join(args)


# --- pictures -------------------------------------------------------------------------------------------

def _data_uri(image: np.ndarray, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, optimize=True)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(image: np.ndarray, alt: str, width: int | None = None) -> str:
    style = f' style="width:{width}px"' if width else ""
    return f'<img src="{_data_uri(image)}" alt="{html.escape(alt)}"{style}>'


def _tiles(images: torch.Tensor, captions: list[str], alt: str) -> str:
    """uint8 images (N, C, H, W), each shown large with a caption under it."""
    cells = []
    for image, caption in zip(images, captions):
        grid = make_grid(image.unsqueeze(0).float().div(127.5).sub(1.0), nrow=1, padding=0)
        cells.append(f'<figure>{_img(grid, alt, width=96)}<figcaption>{html.escape(caption)}</figcaption></figure>')
    return '<div class="tiles">' + "".join(cells) + "</div>"


def _thin(x: np.ndarray, n: int) -> np.ndarray:
    return x if len(x) <= n else x[np.linspace(0, len(x) - 1, n).round().astype(int)]


def svg_chart(history: dict[str, np.ndarray], series: list[tuple[str, str, str]], title: str,
              y_range: tuple[float, float] | None = None) -> str:
    """An inline SVG line chart of ``history`` columns: series = [(column, label, colour)]."""
    steps = history.get("step", np.zeros(0))
    cols = [(np.asarray(history[c], dtype=float), label, colour) for c, label, colour in series if c in history]
    w, h, left, right, top, bottom = 640, 240, 48, 12, 28, 28
    if not len(steps) or not cols:
        return ""
    values = np.concatenate([v[np.isfinite(v)] for v, _, _ in cols]) if cols else np.zeros(1)
    lo, hi = y_range or (float(values.min()), float(values.max()))
    hi = hi if hi > lo else lo + 1.0
    x0, x1 = float(steps[0]), float(max(steps[-1], steps[0] + 1))

    def px(s: float, v: float) -> tuple[float, float]:
        return (left + (s - x0) / (x1 - x0) * (w - left - right),
                top + (1 - (min(max(v, lo), hi) - lo) / (hi - lo)) * (h - top - bottom))

    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" '
             f'aria-label="{html.escape(title)}" class="chart">',
             f'<text x="{left}" y="16" class="t">{html.escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" class="frame"/>']
    for v in (lo, (lo + hi) / 2, hi):
        _, y = px(x0, v)
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="a">{v:.3g}</text>')
    for s in (x0, x1):
        x, _ = px(s, lo)
        parts.append(f'<text x="{x:.1f}" y="{h - 8}" text-anchor="middle" class="a">{int(s)}</text>')
    idx = _thin(np.arange(len(steps)), CHART_POINTS)
    for k, (v, label, colour) in enumerate(cols):
        points = " ".join("%.1f,%.1f" % px(float(steps[i]), float(v[i])) for i in idx if np.isfinite(v[i]))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        parts.append(f'<text x="{w - right - 8}" y="{top + 16 + 16 * k}" fill="{colour}" text-anchor="end" '
                     f'class="a">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- the judge in words ----------------------------------------------------------------------------------

def judge_verdict(two_sample: dict) -> str:
    """The verdict in one word: ``same`` (no evidence at 5% that the judge tells them apart), ``close``
    (it can, below 0.6) or ``apart``."""
    if two_sample["p_value"] >= 0.05:
        return "same"
    return "close" if two_sample["accuracy"] < 0.6 else "apart"


def judge_sentences(result: dict, lang: str) -> dict[str, str]:
    """The judge's numbers in words (``result`` is ``JudgeResult.to_json()``): the verdict, what each
    reading means and what it cannot see. The page and the report say the same."""
    t = result["two_sample"]
    c, d = result["copies"], result["diversity"]
    lo, hi = t["ci95"]
    return {
        "accuracy": translate("judge.accuracy", lang, accuracy=f"{t['accuracy']:.3f}", lo=f"{lo:.3f}", hi=f"{hi:.3f}",
                              p=f"{t['p_value']:.2g}", n=t["n_test"]),
        "verdict": translate(f"judge.verdict.{judge_verdict(t)}", lang),
        "accuracy_means": translate("judge.accuracy_means", lang),
        "accuracy_limit": translate("judge.accuracy_limit", lang, n=t["n_test"],
                                    delta=f"{t['detectable_deviation']:.3f}",
                                    at=f"{0.5 + t['detectable_deviation']:.2f}"),
        "gallery_means": translate("judge.gallery_means", lang),
        "copies": translate("judge.copies", lang, share=f"{c['pixels']['closer_than_real_share']:.1%}",
                            fshare=f"{c['features']['closer_than_real_share']:.1%}",
                            expected=f"{c['expected_share']:.0%}", n=c["reference_size"]),
        "copies_verdict": translate("judge.copies_flagged" if c["flagged"] else "judge.copies_ok", lang),
        "copies_means": translate("judge.copies_means", lang),
        "diversity": translate("judge.diversity", lang, pixels=f"{d['pixels']['ratio']:.2f}",
                               features=f"{d['features']['ratio']:.2f}"),
        "diversity_verdict": translate("judge.diversity_flagged" if d["flagged"] else "judge.diversity_ok", lang),
        "diversity_means": translate("judge.diversity_means", lang),
    }


# --- the report -------------------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans KR","Malgun Gothic",sans-serif;max-width:960px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.7em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
code,pre{background:#f4f4f4;border-radius:4px}pre{padding:.6em;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
img{image-rendering:pixelated;max-width:100%}.tiles{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;text-align:center;font-size:.85em}.pair{display:inline-block;margin:4px 12px 4px 0}
.chart{width:100%;max-width:640px;display:block;margin:.5em 0}.chart .t{font-size:13px;font-weight:bold}
.chart .a{font-size:11px;fill:#555}.chart .frame{fill:none;stroke:#bbb}
.big{font-size:1.4em;font-weight:bold}.note{color:#555;font-size:.92em}
.flag{color:#b00020;font-weight:bold}.ok{color:#1b5e20;font-weight:bold}
"""


def _hardware(lang: str) -> str:
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    cores = translate("report.cores", lang, n=os.cpu_count() or 1)
    return ", ".join(p for p in (cpu, cores, gpu, f"PyTorch {torch.__version__}", f"gan_core {gan_core.__version__}")
                     if p)


def _names_its_data(dataset: str) -> bool:
    """True when ``--dataset`` finds the images here: a registered name or an existing path (a run trained
    on an upload keeps only the upload's name)."""
    from gan_core.data.datasets import dataset_names

    return str(dataset).strip().lower() in dataset_names() or Path(str(dataset)).expanduser().exists()


def build_report(record: RunRecord, judge: JudgeResult | None, lang: str = "en",
                 final_grid: np.ndarray | None = None) -> str:
    """The HTML text of the report (self-contained; see the module docstring)."""
    lang = normalize_language(lang)

    def tr(key: str, **params) -> str:
        return html.escape(translate(f"report.{key}", lang, **params))

    ds = record.dataset
    name = str(ds.get("name") or record.train_config.get("dataset") or "?")
    kind = tr("grey") if record.channels == 1 else tr("colour")
    classes = ds.get("class_names") or []
    rows = [(tr("data_name"), html.escape(name)),
            (tr("data_images"), f"{int(ds['size']):,}" if isinstance(ds.get("size"), int) else "?"),
            (tr("data_shape"), f"{record.image_size} x {record.image_size} {kind}"),
            (tr("data_classes"), html.escape(", ".join(map(str, classes[:20]))) if classes else tr("unlabelled")),
            (tr("preset"), html.escape(str(record.train_config.get("preset", "?")))),
            (tr("steps"), f"{record.step:,}")]
    body = [f"<h1>{tr('title')}</h1>",
            f'<p class="note">{tr("made", when=time.strftime("%Y-%m-%d %H:%M"))}</p>',
            f"<h2>{tr('dataset')}</h2><table>"
            + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>",
            f"<h2>{tr('command')}</h2><p>{tr('command_note')}</p>"
            f"<pre><code>{html.escape(train_command(record.train_config, record.step))}</code></pre>"
            + ("" if _names_its_data(record.train_config.get("dataset", name)) else
               f'<p class="note">{tr("command_data", name=str(record.train_config.get("dataset", name)))}</p>'),
            f"<h2>{tr('curves')}</h2><p>{tr('curves_note')}</p>",
            svg_chart(record.history, [("loss_d", tr("loss_d"), "#1f77b4"), ("loss_g", tr("loss_g"), "#d62728")],
                      translate("report.losses", lang)),
            svg_chart(record.history, [("d_real", "D(x)", "#2ca02c"), ("d_fake", "D(G(z))", "#ff7f0e")],
                      translate("report.d_outputs", lang), y_range=(0.0, 1.0))]
    grid = final_grid if final_grid is not None else (record.grids[-1][1] if record.grids else None)
    if grid is not None:
        body.append(f"<h2>{tr('samples')}</h2><p>{tr('samples_note', step=record.step)}</p>"
                    f"{_img(grid, translate('report.samples', lang), width=min(512, 2 * grid.shape[1]))}")
    if record.grids:
        frames, used = [], 0
        for step, frame in record.grids:
            uri = _data_uri(frame)
            if used + len(uri) > TIMELAPSE_BUDGET and frames:
                break
            used += len(uri)
            frames.append(f'<figure><img src="{uri}" alt="{tr("at", step=step)}" style="width:200px">'
                          f"<figcaption>{tr('at', step=step)}</figcaption></figure>")
        body.append(f"<h2>{tr('timelapse')}</h2><div class=\"tiles\">{''.join(frames)}</div>")
    body += _judge_section(judge, lang, tr) if judge is not None else [f"<h2>{tr('judge')}</h2><p>{tr('no_judge')}</p>"]
    if record.classifier_metrics:
        body += _classifier_section(record.classifier_metrics, tr)
    body.append(f"<h2>{tr('machine')}</h2><table>"
                f"<tr><th>{tr('time')}</th><td>{html.escape(duration_text(record.elapsed, lang))}</td></tr>"
                f"<tr><th>{tr('device')}</th><td>{html.escape(record.device or '?')}</td></tr>"
                f"<tr><th>{tr('hardware')}</th><td>{html.escape(_hardware(lang))}</td></tr></table>")
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{tr('title')}: {html.escape(name)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>")


def _classifier_section(m: dict, tr) -> list[str]:
    """The labelled classifier's numbers beside the judge's (mnist5k, Fashion-MNIST)."""
    rows = [(tr("confidence"), f"{m['confidence']:.3f}"), (tr("classes_covered"), str(m["classes_covered"])),
            (tr("inception_score"), f"{m['inception_score']:.2f}")]
    if "fid" in m:
        floor = tr("fid_floor", floor="%.1f" % m["fid_floor"])
        rows.append((tr("fid"), f"{m['fid']:.1f} ({floor})"))
    return [f"<h2>{tr('classifier')}</h2><p>{tr('classifier_note', n=m.get('n', '?'))}</p><table>"
            + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"]


def _judge_section(judge: JudgeResult, lang: str, tr) -> list[str]:
    result = judge.to_json()
    words = {k: html.escape(v) for k, v in judge_sentences(result, lang).items()}
    gallery = result["gallery"]
    pairs = result["copies"]["closest_pairs"]
    copy_cells = "".join(
        '<div class="pair">' + _tiles(torch.stack([fake, real]), [translate("report.fake", lang), translate(
            "report.train", lang, d="%.3f" % pair["pixel_distance"])], tr("copies")) + "</div>"
        for fake, real, pair in zip(judge.images["copy_fakes"], judge.images["copy_train"], pairs))
    flag = lambda bad: "flag" if bad else "ok"  # noqa: E731
    step = judge.judge.get("checkpoint_step")
    return [
        f"<h2>{tr('judge')}</h2><p>{tr('judge_note')}</p>"
        + (f'<p class="note">{tr("judged_at", step=f"{step:,}", n=judge.judge["n"])}</p>' if step is not None else ""),
        f'<p class="big">{words["accuracy"]}</p><p><b>{words["verdict"]}</b></p>',
        f"<p>{words['accuracy_means']}</p><p class=\"note\">{words['accuracy_limit']}</p>",
        f"<h3>{tr('caught')}</h3>",
        _tiles(judge.images["caught"], [f"{g['p_fake']:.2f}" for g in gallery["caught"]], tr("caught")),
        f"<h3>{tr('fooled')}</h3>",
        _tiles(judge.images["fooled"], [f"{g['p_fake']:.2f}" for g in gallery["fooled"]], tr("fooled")),
        f"<p class=\"note\">{words['gallery_means']}</p>",
        f"<h3>{tr('copies')}</h3><p>{words['copies']}</p>"
        f'<p class="{flag(result["copies"]["flagged"])}">{words["copies_verdict"]}</p>{copy_cells}'
        f"<p class=\"note\">{words['copies_means']}</p>",
        f"<h3>{tr('diversity')}</h3><p>{words['diversity']}</p>"
        f'<p class="{flag(result["diversity"]["flagged"])}">{words["diversity_verdict"]}</p>'
        f"<p class=\"note\">{words['diversity_means']}</p>",
    ]


def report_bytes(html_text: str) -> bytes:
    """The report as UTF-8, refused (ValueError) if it is over ``MAX_BYTES``."""
    data = html_text.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise ValueError(translate("errors.report.too_big", mb=f"{len(data) / 1e6:.1f}", limit=MAX_BYTES // 1_000_000))
    return data


def checkpoint_report(path: str | Path, judge: JudgeResult | None, lang: str = "en",
                      classifier_metrics: dict | None = None) -> bytes:
    """The report of a run folder (or checkpoint .zip) with ``judge``'s verdict (and the classifier's
    numbers, ``evaluate_checkpoint``'s result, when the dataset has a classifier)."""
    record = record_from_checkpoint(path)
    record.classifier_metrics = classifier_metrics
    return report_bytes(build_report(record, judge, lang))
