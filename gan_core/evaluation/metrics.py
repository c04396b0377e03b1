"""Objective quality metrics for generated images, and mode metrics for the 1-D/2-D toys.

Image metrics use a small CNN classifier trained on the same dataset (``gan_core.evaluation.classifier``,
shipped in ``assets/classifier-<dataset>/``) as the "judge":

- **Fréchet distance** between real and generated images in the classifier's penultimate features
  (FID with our classifier instead of Inception-v3; torchmetrics does the matrix square root).
  Always read it next to its **floor**: the distance between two disjoint halves of real data,
  which is what a perfect generator would score with the same number of samples.
- **Confidence**: share of samples the classifier is sure about (max p(y|x) >= 0.9).
- **Mode coverage**: the class histogram of generated samples, how many classes get >= 5% of
  them, and the KL divergence of that histogram to uniform (0 = balanced, log K = one class).
- **Inception Score** exp(E_x KL(p(y|x) || p(y))) with the same classifier: high when each sample
  is confidently one class and all classes appear (max = number of classes).

Toy metrics (``toy_mode_metrics``): for a mixture of Gaussians, a sample is *high quality* when it
lies within 3 standard deviations of some mode, and a mode is *covered* when it has at least one
high-quality sample (the convention of VEEGAN, Srivastava et al. 2017).
"""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

import torch
from torch import nn

from gan_core.evaluation.classifier import Classifier, load_classifier_dir
from gan_core.i18n import LocalizedError
from gan_core.paths import ASSETS_DIR
from gan_core.settings import Setting

# Datasets judged by another dataset's classifier (full MNIST looks like mnist5k).
CLASSIFIER_ALIASES = {"mnist": "mnist5k"}
CONFIDENCE_THRESHOLD = 0.9
# Samples per evaluation: two make a covariance; 50,000 is the usual FID sample count.
N_SAMPLES = Setting("int", 2, 50_000, help="settings.help.n_evaluate", flag="--n")
MIN_CLASS_SHARE = 0.05

_classifiers: dict[str, Classifier | None] = {}
_classifiers_lock = threading.Lock()


class MetricsError(LocalizedError):
    """Metrics that cannot be computed for this input, with a sentence saying why."""


# --- the classifier -------------------------------------------------------------------------------

def classifier_dir(dataset_name: str) -> Path:
    """Where the classifier for a dataset lives: assets/classifier-<dataset>."""
    name = str(dataset_name).strip().lower()
    return ASSETS_DIR / f"classifier-{CLASSIFIER_ALIASES.get(name, name)}"


def load_classifier(dataset_name: str) -> Classifier | None:
    """The shipped classifier for a dataset (cached), or None if there is none.

    A classifier folder that exists but is broken raises ``ClassifierError``.
    """
    key = str(dataset_name).strip().lower()
    with _classifiers_lock:
        if key not in _classifiers:
            folder = classifier_dir(key)
            _classifiers[key] = load_classifier_dir(folder) if folder.is_dir() else None
        return _classifiers[key]


def has_classifier(dataset_name: str) -> bool:
    """True if ``load_classifier(dataset_name)`` finds a classifier."""
    return load_classifier(dataset_name) is not None


# --- metrics on classifier outputs ----------------------------------------------------------------

def _labels(probs_or_labels: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(probs_or_labels)
    if x.ndim == 2:
        return x.argmax(dim=1)
    if x.ndim == 1 and not x.is_floating_point():
        return x.long()
    raise MetricsError("errors.metrics.bad_labels")


def classifier_confidence(probs: torch.Tensor, threshold: float = CONFIDENCE_THRESHOLD) -> float:
    """Share of samples whose most likely class has probability >= ``threshold``."""
    if len(probs) == 0:
        raise MetricsError("errors.metrics.no_samples")
    return float((probs.max(dim=1).values >= threshold).float().mean())


def mode_coverage(probs_or_labels: torch.Tensor, num_classes: int, min_share: float = MIN_CLASS_SHARE) -> dict:
    """Class histogram of samples (shares), classes with >= ``min_share``, and KL(histogram || uniform).

    KL is 0 for perfectly balanced classes and log(num_classes) when every sample is one class.
    Mode collapse in two numbers: ``largest_class_share`` (1/num_classes when balanced) and
    ``classes_for_80_percent``, the fewest classes that hold 80% of the samples (8 of 10 when balanced;
    "only a few kinds of clothing" is 2-4).
    """
    labels = _labels(probs_or_labels)
    if len(labels) == 0:
        raise MetricsError("errors.metrics.no_samples")
    hist = torch.bincount(labels, minlength=num_classes)[:num_classes].double() / len(labels)
    nonzero = hist[hist > 0]
    kl = float((nonzero * (nonzero * num_classes).log()).sum())
    shares = hist.sort(descending=True).values
    return {
        "histogram": [round(float(h), 6) for h in hist],
        "classes_covered": int((hist >= min_share).sum()),
        "kl_to_uniform": max(0.0, kl),
        "largest_class_share": float(shares[0]),
        "classes_for_80_percent": int((shares.cumsum(0) < 0.8 - 1e-9).sum()) + 1,
    }


FEW_CLASSES = 4  # "only a few of the 10 kinds": at most this many classes hold 80% of the samples
LEARNED_CONFIDENCE = 0.5  # at least this share of samples classified with p >= 0.9: images, not noise


def mode_reading(summary: dict) -> str:
    """What the class numbers of ``summarise_probs`` say, in one word, so failure is not taken for collapse:

    - ``"collapsed"``: few classes hold 80% of the samples *and* the classifier is sure of them (G
      draws a few kinds, well: mode collapse);
    - ``"not_learned"``: few classes but low confidence (noise or blobs, which a classifier files under
      one or two classes: the tuning runs in BENCHMARKS.md met "4 classes hold 80%" that way);
    - ``"varied"``: the samples spread over many classes.
    """
    if summary["classes_for_80_percent"] > FEW_CLASSES:
        return "varied"
    return "collapsed" if summary["confidence"] >= LEARNED_CONFIDENCE else "not_learned"


def inception_score(probs: torch.Tensor, eps: float = 1e-12) -> float:
    """exp(mean over x of KL(p(y|x) || p(y))), p(y) the mean of p(y|x); one split, in [1, classes].

    Computed from the probabilities directly (torchmetrics' InceptionScore wants a feature network
    and shuffles into 10 splits with the global RNG; one split is deterministic and, for the few
    hundred samples of the live chart, less noisy).
    """
    p = probs.double()
    marginal = p.mean(dim=0, keepdim=True)
    kl = (p * ((p + eps).log() - (marginal + eps).log())).sum(dim=1)
    return float(kl.mean().exp())


# --- Fréchet distance -------------------------------------------------------------------------------

class _Precomputed(nn.Module):
    """Identity "feature extractor": we hand torchmetrics features we already computed."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def frechet_distance_of_features(a: torch.Tensor, b: torch.Tensor) -> float:
    """||mu_a - mu_b||² + Tr(S_a + S_b - 2 (S_a S_b)^½) of two feature sets (N, d), via torchmetrics."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    if len(a) < 2 or len(b) < 2:
        raise MetricsError("errors.metrics.frechet_samples")
    fid = FrechetInceptionDistance(feature=_Precomputed(a.shape[1]))
    fid.update(a.double(), real=True)
    fid.update(b.double(), real=False)
    return max(0.0, float(fid.compute()))  # rounding can make identical sets a hair below 0


def frechet_distance(real_images: torch.Tensor, fake_images: torch.Tensor, classifier: Classifier) -> float:
    """Fréchet distance between real and generated images in the classifier's features."""
    return frechet_distance_of_features(classifier.features(real_images), classifier.features(fake_images))


def _halves(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[: n // 2], perm[n // 2: 2 * (n // 2)]


def frechet_floor(real_images: torch.Tensor, classifier: Classifier, seed: int = 0) -> float:
    """The real-vs-real floor: Fréchet distance between two disjoint random halves of real images.

    A generator as good as the data scores about this with as many samples as one half.
    """
    a, b = _halves(len(real_images), seed)
    feats = classifier.features(real_images)
    return frechet_distance_of_features(feats[a], feats[b])


# --- the numbers the training page charts ---------------------------------------------------------

def summarise_probs(probs: torch.Tensor, class_names: list[str]) -> dict:
    """Confidence, class histogram, coverage, KL to uniform and Inception Score of p(y|x)."""
    cover = mode_coverage(probs, len(class_names))
    return {
        "confidence": classifier_confidence(probs),
        "class_histogram": cover["histogram"],
        "class_names": list(class_names),
        "classes_covered": cover["classes_covered"],
        "kl_to_uniform": cover["kl_to_uniform"],
        "largest_class_share": cover["largest_class_share"],
        "classes_for_80_percent": cover["classes_for_80_percent"],
        "inception_score": inception_score(probs),
        "n": len(probs),
    }


def quick_metrics(images: torch.Tensor, dataset_name: str) -> dict | None:
    """Cheap metrics of a few hundred generated images (N, C, H, W) in [-1, 1], for live charts.

    Keys: confidence, class_histogram, class_names, classes_covered, kl_to_uniform,
    inception_score, n. None when there is no classifier for this dataset or image shape.
    Safe to call from a training thread (the classifier is read-only).
    """
    classifier = load_classifier(dataset_name)
    if classifier is None or not classifier.accepts(images) or len(images) == 0:
        return None
    return summarise_probs(classifier.probs(images), classifier.class_names)


def evaluate_checkpoint(path, n: int = 2000, seed: int = 0, real: torch.Tensor | None = None,
                        data_root: str | None = None) -> dict:
    """All metrics of a checkpoint's generator: n samples (noise seeded by ``seed``) vs real images.

    ``real`` defaults to the checkpoint's dataset. Fréchet distance and its floor use the same
    number of real images per side (min(n, half the real set)), so they can be compared.
    """
    from gan_core.checkpoint import load_checkpoint
    from gan_core.latent import sample_latents

    reason = N_SAMPLES.problem("n", n)
    if reason:
        raise MetricsError(reason.key, **reason.params)
    ckpt = load_checkpoint(path)
    dataset = ckpt.dataset.get("name") or ckpt.train_config.get("dataset")
    if not dataset:
        raise MetricsError("errors.metrics.no_dataset")
    classifier = load_classifier(dataset)
    if classifier is None:
        raise MetricsError("errors.metrics.no_classifier", dataset=Path(str(dataset)).name, checkpoint=shlex.quote(str(path)))
    mc = ckpt.model_config
    if (mc.channels, mc.image_size, mc.image_size) != classifier.image_shape:
        raise MetricsError("errors.metrics.shape", got=str((mc.channels, mc.image_size, mc.image_size)),
                           dataset=str(dataset), expected=str(classifier.image_shape))
    if real is None:
        from gan_core.data.datasets import load_dataset

        real = load_dataset(dataset, image_size=mc.image_size, channels=mc.channels, root=data_root).images
    if len(real) < 4:
        raise MetricsError("errors.metrics.few_real")

    z = sample_latents(n, mc.latent_dim, seed=seed, prior=ckpt.train_config.get("prior", "normal"))
    with torch.no_grad():
        fake = torch.cat([ckpt.generator(chunk) for chunk in z.split(500)])
    half = min(n, len(real) // 2)
    a, b = _halves(len(real), seed)
    real_feats = classifier.features(real[torch.cat([a[:half], b[:half]])])
    real_a, real_b = real_feats[:half], real_feats[half:]
    fake_probs = classifier.probs(fake)
    real_probs = classifier.probs(real[a[:half]])
    summary = summarise_probs(fake_probs, classifier.class_names)
    return {
        "fid": frechet_distance_of_features(real_a, classifier.features(fake)),
        "fid_floor": frechet_distance_of_features(real_a, real_b),
        "confidence": summary["confidence"],
        "classes_covered": summary["classes_covered"],
        "histogram": summary["class_histogram"],
        "kl_to_uniform": summary["kl_to_uniform"],
        "largest_class_share": summary["largest_class_share"],
        "classes_for_80_percent": summary["classes_for_80_percent"],
        "mode_reading": mode_reading(summary),  # "varied", "collapsed" or "not_learned"
        "inception_score": summary["inception_score"],
        "real_confidence": classifier_confidence(real_probs),
        "real_inception_score": inception_score(real_probs),
        "class_names": classifier.class_names,
        "n": n,
        "n_real_per_half": half,
        "seed": seed,
        "dataset": dataset,
        "checkpoint_step": ckpt.step,
        "classifier_accuracy": classifier.accuracy,
        "feature_dim": classifier.num_features,
    }


# --- toy mixtures (1-D / 2-D; the 2-D targets and their samplers: gan_core.toy.toy2d) ------------------------

def toy_mode_metrics(samples: torch.Tensor, means: torch.Tensor, std: float, n_sigma: float = 3.0,
                     min_count: int = 1) -> dict:
    """Modes covered and the share of high-quality samples (within n_sigma·std of the nearest mode).

    Works for 1-D ((N,) or (N, 1) samples, (M,) or (M, 1) means) and 2-D mixtures. A mode is covered
    when at least ``min_count`` high-quality samples are nearest to it.
    """
    means = torch.as_tensor(means, dtype=torch.float32).reshape(len(means), -1)
    samples = torch.as_tensor(samples, dtype=torch.float32).reshape(len(samples), -1)
    if samples.shape[1] != means.shape[1]:
        raise MetricsError("errors.metrics.dims", got=samples.shape[1], expected=means.shape[1])
    if len(samples) == 0:
        raise MetricsError("errors.metrics.no_samples")
    dist, nearest = torch.cdist(samples, means).min(dim=1)
    good = dist <= n_sigma * std
    counts = torch.bincount(nearest[good], minlength=len(means))
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "n_modes": len(means),
        "high_quality_share": float(good.float().mean()),
        "mode_counts": counts.tolist(),
    }


def classifier_metrics_if_any(path, n: int = 2000, seed: int = 0, data_root: str | None = None) -> dict | None:
    """``evaluate_checkpoint``'s result when the checkpoint's own dataset has a classifier, else None
    (beside the two-sample judge, which needs none)."""
    from gan_core.checkpoint import load_checkpoint

    if not has_classifier(load_checkpoint(path).dataset.get("name", "")):
        return None
    return evaluate_checkpoint(path, n=n, seed=seed, data_root=data_root)
