"""The benchmark: --quick produces complete JSON and markdown; the reference loop is a fair baseline."""

import json
import statistics
import subprocess
import sys

import pytest
import torch

from gan_core.bench import (GOALS, MARK_END, MARK_START, PARTS, Goal, Part, ReferenceLoop, goals, markdown, run_bench,
                            write_markdown)
from gan_core.bench.harness import BenchSettings, table
from gan_core.data.datasets import load_dataset
from gan_core.trainer import TrainConfig, Trainer

RESULT_KEYS = ("machine", "matmul_peak", "throughput", "thread_scaling", "time_to_quality", "app_overhead",
         "latent_latency", "toy1d_play", "startup", "amp", "log_every", "distributed", "judge", "goals",
               "part_seconds")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One run of `python -m gan_core bench --quick` (threads=1: the 2 cores are shared)."""
    tmp = tmp_path_factory.mktemp("bench")
    md = tmp / "BENCH.md"
    md.write_text("# Benchmarks\n\nintro kept\n\n" + MARK_START + "\nold table\n" + MARK_END + "\n\nnotes kept\n")
    r = subprocess.run([sys.executable, "-m", "gan_core", "bench", "--quick", "--threads", "1",
                        "--json", str(tmp / "b.json"), "--out", str(md)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout), json.loads((tmp / "b.json").read_text()), md.read_text()


def test_quick_bench_prints_valid_json_with_every_part(quick):
    printed, saved, _ = quick
    assert printed == saved and printed["quick"] is True
    for key in RESULT_KEYS:
        assert key in printed, key
    m = printed["machine"]
    assert m["cores"] >= 1 and m["threads"] == 1 and m["torch"] == torch.__version__ and m["cpu"]
    assert printed["matmul_peak"]["flops_per_sec"] > 0
    assert set(printed["throughput"]) == {"small", "dcgan", "tf-tutorial"}
    for r in printed["throughput"].values():
        assert r["trainer_images_per_sec"] > 0 and r["reference_images_per_sec"] > 0 and r["ratio"] > 0
        assert r["flops_per_step_trainer"] > 0 and r["flops_per_step_reference"] > 0
    assert set(printed["goals"]) == set(GOALS)
    assert printed["time_to_quality"]["available"] and printed["time_to_quality"]["curve"]
    app = printed["app_overhead"]  # two fresh processes, each trained for real
    assert app["available"] and app["headless_images_per_sec"] > 0 and app["in_app_images_per_sec"] > 0
    assert app["ratio"] == pytest.approx(app["in_app_images_per_sec"] / app["headless_images_per_sec"])
    lat = printed["latent_latency"]
    assert lat["available"] and lat["repeats"] == 2
    assert all(lat[k] > 0 for k in ("one_image_ms", "interpolation_16_frames_ms", "sefa_directions_ms"))
    assert printed["startup"]["import_gan_core_trainer_seconds"] > 0
    amp = printed["amp"]  # --quick times the --amp path even where it would not be measured (this CPU)
    assert amp["available"] and set(amp["presets"]) == {"small", "dcgan", "tf-tutorial"}
    assert all(r["amp_images_per_sec"] > 0 and r["float32_images_per_sec"] > 0 for r in amp["presets"].values())
    le = printed["log_every"]  # --quick times run_steps against step() even on the CPU
    assert le["available"] and all(r["log_every_images_per_sec"] > 0 for r in le["presets"].values())
    dd = printed["distributed"]  # a real torchrun with 2 gloo processes, and the plain 1-process run
    assert dd["images_per_sec"]["1"] > 0 and dd["images_per_sec"]["2"] > 0
    assert dd["scaling_efficiency"] == pytest.approx(dd["images_per_sec"]["2"] / (2 * dd["images_per_sec"]["1"]))
    judge = printed["judge"]  # the two-sample judge on 40 + 40 colour images
    assert judge["n"] == 40 and judge["seconds"] > 0 and 0 <= judge["accuracy"] <= 1
    play = printed["toy1d_play"]
    # every tick runs at least one update and takes at least the tick budget
    assert play["ticks"] >= 1 and play["updates"] >= play["ticks"]
    assert play["ticks_per_second"] == pytest.approx(play["ticks"] / play["seconds"])
    assert play["ticks_per_second"] <= 1 / play["tick_budget_s"]


def test_quick_bench_replaces_only_the_marked_block(quick):
    _, _, md = quick
    assert md.startswith("# Benchmarks\n\nintro kept\n") and md.rstrip().endswith("notes kept")
    assert "old table" not in md and md.count(MARK_START) == 1
    assert "### Training throughput" in md and "| tf-tutorial |" in md and "### Goals" in md
    assert "### Several processes (torchrun, CPU)" in md


def test_write_markdown_creates_a_file_with_markers(quick, tmp_path):
    result, _, _ = quick
    path = write_markdown(result, tmp_path / "new.md")
    text = path.read_text()
    assert text.startswith("# Benchmarks") and MARK_START in text and MARK_END in text


def test_goals_compare_in_the_right_direction():
    def result(ratio, share, seconds, app, judge):
        return {"throughput": {"tf-tutorial": {"ratio": ratio, "trainer_peak_share": share},
                               "small": {"ratio": 2.0, "trainer_peak_share": 0.1}},
                "time_to_quality": {"seconds": seconds}, "app_overhead": {"ratio": app}, "judge": {"seconds": judge}}

    good = goals(result(1.05, 0.7, 40.0, 0.95, 30.0))
    assert set(good) == set(GOALS) and all(g["met"] for g in good.values())
    bad = goals(result(0.8, 0.3, 90.0, 0.5, 90.0))
    assert not any(g["met"] for g in bad.values())
    assert goals(result(1.0, 0.7, None, None, None))["time_to_quality_seconds"]["met"] is None
    partial = goals({"throughput": result(1.05, 0.7, 40.0, 0.95, 30.0)["throughput"]})  # the other parts did not run
    assert partial["trainer_vs_reference"]["met"] and partial["judge_seconds"] == {"target": 60.0, "value": None, "met": None}


def test_reference_loop_starts_from_the_trainers_weights_and_learns():
    torch.set_num_threads(1)
    data = load_dataset("mnist5k")
    config = TrainConfig(preset="small", batch_size=16, seed=3)
    trainer = Trainer(config, data, device="cpu")
    ref = ReferenceLoop(config, data.images, torch.device("cpu"))
    for a, b in zip(trainer.G.state_dict().values(), ref.G.state_dict().values()):
        assert torch.equal(a, b)
    before = [p.detach().clone() for p in ref.D.parameters()]
    logs = ref.step()
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values()) and ref.images_seen == 16
    assert any(not torch.equal(a, b) for a, b in zip(before, ref.D.parameters()))


def test_parts_runs_only_the_named_parts(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gan_core", "bench", "--quick", "--threads", "1", "--parts",
                        "time_to_quality", "--out", str(tmp_path / "B.md")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["parts"] == ["time_to_quality"] and "throughput" not in out and "goals" not in out
    ttq = out["time_to_quality"]
    assert ttq["available"] and ttq["recipe"]["ema"] == TrainConfig(preset="small").resolved().ema
    assert not (tmp_path / "B.md").exists()  # the markdown tables need every part
    r = subprocess.run([sys.executable, "-m", "gan_core", "bench", "--quick", "--parts", "nope"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unknown bench parts" in r.stderr


def test_paired_ratio_cancels_drift_and_the_second_runs_advantage():
    from gan_core.bench import paired_ratio

    # A is truly 1.1x B; the machine slows down round after round, and whichever side runs second
    # in a round (B in rounds 0, 2, ...; A in rounds 1, 3, ...) gets 5% extra.
    speed = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]  # an odd number of rounds: one order gets the majority
    a = [1.1 * s * (1.05 if i % 2 else 1.0) for i, s in enumerate(speed)]
    b = [1.0 * s * (1.0 if i % 2 else 1.05) for i, s in enumerate(speed)]
    assert abs(paired_ratio(a, b) - 1.1) < 1e-9
    naive = statistics.median(x / y for x, y in zip(a, b))
    assert abs(naive - 1.1) > 0.04  # what the plain per-round median would have said
    assert paired_ratio([2.0], [1.0]) == 2.0  # a single round: its own ratio


# --- parts in a registry: a new part is one module ---------------------------------------------------

def test_the_parts_are_found_in_their_order_and_a_taken_name_is_refused():
    assert list(PARTS) == ["matmul_peak", "throughput", "thread_scaling", "time_to_quality", "app_overhead",
                           "latent_latency", "toy1d_play", "startup", "amp", "log_every", "distributed", "judge"]
    assert [p.order for p in PARTS.values()] == sorted(p.order for p in PARTS.values())
    with pytest.raises(ValueError, match="already registered"):
        PARTS.register(Part("throughput", 999, lambda ctx: {}))


def test_a_registered_part_runs_and_brings_its_markdown_and_its_goal(quick, monkeypatch):
    seen = []

    def run(ctx):
        seen.append((ctx.settings.quick, ctx.sizes))
        return {"available": True, "widgets_per_sec": 12.5}

    part = Part("widgets", 115, run, lambda r: ["", "### Widgets", "", *table(["what", "per s"], [["w", str(r["widgets_per_sec"])]])],
                goals=(Goal("widgets_fast", "widgets per second", 10.0, lambda r: r["widgets_per_sec"]),),
                sizes={"widgets": (1000, 3)})
    monkeypatch.setitem(PARTS, "widgets", part)
    out = run_bench(BenchSettings.quick_settings(), threads=1, only=("widgets",))
    assert out["widgets"] == {"available": True, "widgets_per_sec": 12.5} and seen == [(True, {"widgets": 3})]
    assert part.sized(False) == {"widgets": 1000}  # a full run's size, declared with the part
    assert "throughput" not in out and out["parts"] == ["widgets"]

    result = {**quick[0], "widgets": out["widgets"]}
    result["goals"] = goals(result)
    assert result["goals"]["widgets_fast"] == {"target": 10.0, "value": 12.5, "met": True}
    text = markdown(result)
    assert "| widgets per second | ≥ 10.0 | 12.50 | yes |" in text
    assert text.index("### Several processes") < text.index("### Widgets\n\n| what | per s |\n| --- | --- |\n| w | 12.5 |")
