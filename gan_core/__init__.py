"""gan_core: the plain-PyTorch engine behind GAN Classroom.

Nothing in this package imports streamlit. One concept per module:

Training a GAN
- ``algorithm1``   Algorithm 1 of Goodfellow et al. 2014, once: the D step and the G step, the noise
  priors, eval-mode rendering (every trainer runs it)
- ``trainer``      ``Trainer``: Algorithm 1 on image minibatches (G_ema, divergence recovery);
  ``TrainConfig`` and ``steps_for_epochs``; ``precision`` its mixed precision (``--amp``);
  ``distributed`` the same step on several processes or GPUs (torchrun, DDP)
- ``models``       model presets (tf-tutorial, dcgan, small) and their layer tables  <- add a preset here
- ``ablations``    DCGAN's guidelines as switches: each ablation breaks one guideline of a preset's
  networks (``train --ablate``)  <- add an ablation here; ``ablation_study`` the baseline and every
  ablation over seeds, trained, recorded and measured (``ablation-study``); ``compare_live`` the
  baseline and one ablation with the study's recipe, trained live side by side (two runs, one thread each)
- ``losses``       GAN losses (minimax, non-saturating, lsgan, hinge)               <- add a loss here
- ``data/``        ``datasets``: the dataset registry and loaders                  <- add a dataset here;
  ``image_files``: safe decoding of untrusted image folders and zips; ``summary``: what a folder or
  zip holds and the preset, size and colour that fit it; ``shapes``: the offline colour dataset
- ``checkpoint``   safetensors + JSON checkpoints, validated on load, never unpickled
- ``runs_quota``   the runs folder's disk quota ($GAN_MAX_RUNS_MB): usage, which runs are in use,
  abandoned runs cleaned oldest first, a save refused past it
- ``recording``    a recorded run (metrics.csv + sample grids) for replaying; ``class_shares`` the class
  shares of G's samples along a run (classes.csv, ``train --record-classes``)

Looking at a GAN
- ``toy/``         ``toy_gan``: the toy GAN both toy trainers extend (networks, optimisers, Algorithm 1,
  counters, one history, Play's single updates, live settings); ``toy1d``: the paper's theory on the
  real line (D*, V(D*, G), JSD, KL); ``toy1d_train``: a real 1-D GAN for the Figure 1 page; ``toy2d``: the mode-collapse targets
  (8-Gaussian ring, 5x5 grid, ...), a user's CSV or drawing of points, kNN estimates of KL and JS with
  error bars; ``toy2d_train``: a 2-D GAN (MLPs) on Algorithm 1 with any registered loss, and its
  presets ("collapse-it", "fix-it")  <- add a 2-D target / 2-D preset there; ``overview``: the model
  overview graph's lighting (what a D step and a G step use, and where their gradient goes);
  ``toy2d_compare``: two 2-D runs one setting apart (k, the loss), same seed, stepping together
- ``latent``       latent-space tools: z, interpolation, SeFa/GANSpace directions, arithmetic
- ``images``       sample grids, upscaling, PNG / GIF
- ``evaluation/``  ``classifier`` (the labelled judge), ``metrics`` (Fréchet distance, confidence, modes,
  IS), ``two_sample`` (the independent judge that needs no labels: a classifier two-sample test, the
  gallery, copies, diversity), ``diagnostics`` (plain-word warnings while training)
- ``lecture_tf_dcgan``  the lecture's TensorFlow code as text, mapped onto this package

Running it
- ``worker/``      the app's background training runs (``registry`` of server slots, ``pacing``
  between thread and page, the ``run`` itself, the ``snapshot`` the page reads)
- ``background``   slow work (decoding an upload) in a thread that can be told to stop
- ``cli/``         ``python -m gan_core ...``: ``train``, ``checkpoints`` (sample, export),
  ``evaluate`` (evaluate, train-classifier), ``report``, ``study`` (ablation-study), ``bench``
- ``report``       the report to hand in: one self-contained HTML file of a run (curves, samples, the judge)
- ``bench/``       every speed measurement: the timing ``harness``, the ``reference`` loop, one module
  per measurement in ``parts/`` (a registry: a new module is a new part), ``run`` (goals, markdown)
- ``registry``     ``Registry``: the name -> item table of datasets, presets and losses (refuses
  a duplicate name)
- ``settings``     a setting declared once on its config field (range, help, flag, widget): validate(),
  the command line's flags and the pages' widgets and links are built from it  <- add a setting there
- ``i18n`` + ``locales/``  messages in English and Korean; ``limits`` every resource limit;
  ``device`` cuda > mps > cpu; ``paths`` the repository's folders (and ``GAN_IMAGE_FOLDERS``)

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
