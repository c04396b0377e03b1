"""Peak memory of decoding a folder of many tiny PNGs at 64 px RGB (issue 28), on Linux.

    python scripts/decode_memory.py [--n 20000] [--size 64] [--channels 3] [--source zip|folder]

Writes N 4x4 random-colour PNGs (in three class folders) to a temporary folder or an in-memory zip,
resets the process's peak resident size (VmHWM) to its current size, loads the set with
``load_dataset`` / ``load_image_zip`` and prints the peak it added next to the size of the pixels
kept. The test (tests/test_resource_bounds.py) checks the same at 4,000 images.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

MB = 1024 * 1024


def status_kb(field: str) -> int:
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--source", choices=["zip", "folder"], default="folder")
    args = parser.parse_args()

    import torch
    from gan_core.data.datasets import load_dataset, load_image_zip

    torch.set_num_threads(1)
    colours = np.random.default_rng(0).integers(0, 256, (args.n, 4, 4, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for i, pixels in enumerate(colours):
                buf = io.BytesIO()
                Image.fromarray(pixels).save(buf, "PNG")
                name = f"c{i % 3}/{i}.png"
                if args.source == "zip":
                    zf.writestr(name, buf.getvalue())
                else:
                    (Path(folder) / name).parent.mkdir(exist_ok=True)
                    (Path(folder) / name).write_bytes(buf.getvalue())
        source = out.getvalue() if args.source == "zip" else folder
        load = load_image_zip if args.source == "zip" else load_dataset
        load(source, image_size=args.size, channels=args.channels, limit=10)  # first-use allocations
        open("/proc/self/clear_refs", "w").write("5")  # VmHWM := VmRSS
        before = status_kb("VmRSS")
        started = time.perf_counter()
        ds = load(source, image_size=args.size, channels=args.channels)
        seconds = time.perf_counter() - started
        peak_mb = (status_kb("VmHWM") - before) / 1024
    kept_mb = ds.images.numel() * ds.images.element_size() / MB
    print(f"{len(ds):,} images {tuple(ds.images.shape[1:])} {ds.images.dtype} from a {args.source}: "
          f"kept {kept_mb:,.0f} MB, peak +{peak_mb:,.0f} MB ({peak_mb / kept_mb:.2f}x the kept size; "
          f"float32 would keep {ds.images.numel() * 4 / MB:,.0f} MB), {seconds:.0f} s")


if __name__ == "__main__":
    main()
