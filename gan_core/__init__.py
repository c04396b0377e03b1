"""gan_core: the plain-PyTorch engine behind GAN Classroom.

Nothing in this package imports streamlit. Modules (one concept each):

- ``limits``     -- every safety/resource limit, configurable in one place
- ``device``     -- cuda > mps > cpu selection and CPU thread count
- ``data``       -- dataset registry (mnist5k, mnist, fashion-mnist, cifar10, digits, folders, zips)
- ``models``     -- model presets (tf-tutorial, dcgan, small) and their layer tables
- ``losses``     -- GAN loss registry (minimax, non-saturating, lsgan, hinge)
- ``algorithm1`` -- Algorithm 1 of Goodfellow et al. 2014 once: the D step and the G step, the noise
  priors, eval-mode rendering (used by every trainer)
- ``trainer``    -- ``Trainer``: Algorithm 1 on images (minibatches, G_ema, divergence recovery)
- ``checkpoint`` -- safetensors + JSON checkpoints, validated on load, never unpickled
- ``images``     -- sample grids, PNG / GIF export
- ``worker``     -- the app's background training runs (a package: ``registry`` of server slots,
  ``pacing`` between thread and page, the ``run`` itself, the ``snapshot`` the page reads)
- ``cli``        -- ``python -m gan_core ...``

Import submodules directly (``from gan_core.trainer import Trainer``); this file stays light so
that importing the package is cheap.
"""

import os

# OpenMP threads of torch's CPU kernels spin-wait between ops by default. When anything else wants a
# core (a second session, the browser, another process) the spinning steals it and a 2-thread
# training run collapses (measured ~2,200 -> ~450 img/s; see BENCHMARKS.md "Threads"). A short spin
# costs ~5% when idle. Set before torch loads libgomp; a user's own setting wins.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

__version__ = "0.1.0"
