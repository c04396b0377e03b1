"""Time to recognisable colour samples: the ``small`` preset on the ``shapes`` dataset (issue 28).

    python scripts/colour_time_to_recognisable.py --size 32 --threads 1 [--seed 0] [--max-seconds 900]

"Recognisable", measured: a classifier trained on the real shapes (``train_classifier``, 3 epochs,
held-out accuracy printed) names the generator's samples (500 of G_ema, fixed noise) with mean
confidence >= 0.9, every class appears, and no class takes more than half (no collapse onto one
shape). Checked every ``--every`` steps; the training seconds exclude the checks. At the end the
two-sample judge (``gan_core.evaluation.two_sample``) scores the last generator against the real
images (0.5 = indistinguishable, 1.0 = every fake caught).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

CONFIDENCE = 0.9
LARGEST_SHARE = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, choices=[32, 64], default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--judge-n", type=int, default=1000)
    parser.add_argument("--grid-out", help="write the last samples (64 of G_ema) to this PNG")
    args = parser.parse_args()

    import torch

    from gan_core.data.datasets import load_dataset
    from gan_core.device import set_cpu_threads
    from gan_core.evaluation.classifier import train_classifier
    from gan_core.evaluation.metrics import summarise_probs
    from gan_core.evaluation.two_sample import JudgeConfig, judge_generator
    from gan_core.trainer import TrainConfig, Trainer

    set_cpu_threads(args.threads)
    data = load_dataset("shapes", image_size=args.size, channels=3)
    started = time.perf_counter()
    classifier = train_classifier(data, epochs=3, seed=args.seed)
    print(f"classifier: held-out accuracy {classifier.accuracy:.3f} in {time.perf_counter() - started:.0f} s",
          flush=True)
    trainer = Trainer(TrainConfig(preset="small", dataset="shapes", image_size=args.size, channels=3,
                                  seed=args.seed, device="cpu"), data)
    noise = trainer.sample_noise(500, torch.Generator().manual_seed(args.seed + 7))
    found = None
    while trainer.elapsed < args.max_seconds:
        for _ in range(args.every):
            trainer.step()
        m = summarise_probs(classifier.probs(trainer.generate(noise)), classifier.class_names)
        ok = (m["confidence"] >= CONFIDENCE and m["classes_covered"] == len(classifier.class_names)
              and m["largest_class_share"] <= LARGEST_SHARE)
        print(f"step {trainer.step_count:5d}  {trainer.elapsed:6.1f} s  confidence {m['confidence']:.3f}  "
              f"classes {m['classes_covered']}  largest share {m['largest_class_share']:.2f}"
              f"{'  <- recognisable' if ok and found is None else ''}", flush=True)
        if ok and found is None:
            found = {"steps": trainer.step_count, "seconds": round(trainer.elapsed, 1),
                     "confidence": round(m["confidence"], 3)}
            break
    judge = judge_generator(trainer.sampling_generator, trainer.config.latent_dim, data.images,
                            JudgeConfig(n=args.judge_n, seed=args.seed))
    result = {"size": args.size, "threads": args.threads, "seed": args.seed, "recognisable": found,
              "steps_run": trainer.step_count, "train_seconds": round(trainer.elapsed, 1),
              "images_per_sec": round(trainer.images_seen / max(trainer.elapsed, 1e-9), 1),
              "judge_accuracy": round(judge.two_sample["accuracy"], 3)}
    print(json.dumps(result), flush=True)
    if args.grid_out:
        from gan_core.images import make_grid, save_png

        save_png(make_grid(trainer.generate(noise[:64]), nrow=8), args.grid_out)


if __name__ == "__main__":
    main()
