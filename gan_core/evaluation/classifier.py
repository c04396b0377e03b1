"""A small CNN classifier per labelled dataset: the "judge" behind the quality metrics.

``gan_core.evaluation.metrics`` uses its penultimate layer as the feature space for the Fréchet distance
(what Inception-v3 is for FID on photos) and its softmax for confidence, mode coverage and the
Inception Score. It is trained once per dataset and shipped in ``assets/classifier-<dataset>/``::

    classifier.safetensors   the network's state_dict
    classifier.json          dataset, class names, image shape, width, held-out accuracy, command

Train one with (the command is also written into the JSON)::

    python -m gan_core train-classifier --dataset mnist5k --out assets/classifier-mnist5k --seed 0

Like checkpoints, nothing is unpickled: weights are safetensors, metadata JSON, and every tensor's
name, shape and dtype is checked against the network the JSON describes.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from safetensors.torch import save as st_save
from torch import nn

import gan_core
from gan_core.data.datasets import to_float_images
from gan_core.checkpoint import CheckpointError, _atomic_write, _load_into, _load_tensors
from gan_core.i18n import LocalizedError
from gan_core.settings import Setting

WIDTH = Setting("int", 1, 256, help="settings.help.classifier_width", flag="--width")  # feature maps of the first block

FORMAT = "gan-classroom-classifier"
FORMAT_VERSION = 1
WEIGHTS_FILE = "classifier.safetensors"
INFO_FILE = "classifier.json"
MAX_INFO_BYTES = 1_000_000


class ClassifierError(LocalizedError):
    """A classifier folder that cannot be used, with a sentence saying why."""


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything needed to rebuild the network (stored in classifier.json)."""

    channels: int = 1
    image_size: int = 28
    num_classes: int = 10
    width: int = 16  # feature maps of the first block (the second block has 2x)
    feature_dim: int = 128  # size of the penultimate layer: the Fréchet distance's feature space

    def to_dict(self) -> dict:
        return asdict(self)


class ClassifierNet(nn.Module):
    """Two VGG-style blocks (conv-conv-pool), a 128-unit feature layer, a linear head."""

    def __init__(self, c: ClassifierConfig) -> None:
        super().__init__()
        if c.image_size % 4:
            raise ClassifierError("errors.metrics.classifier_size", value=c.image_size)
        w, side = c.width, c.image_size // 4
        self.config = c
        self.body = nn.Sequential(
            nn.Conv2d(c.channels, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * w * side * side, c.feature_dim), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(c.feature_dim, c.num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class Classifier:
    """A trained ``ClassifierNet`` in eval mode, with its metadata. Thread-safe for inference."""

    batch = 500  # images per forward pass (bounds memory for large n)

    def __init__(self, net: ClassifierNet, info: dict) -> None:
        self.net = net.eval()
        self.info = info
        self.config = net.config
        self.class_names: list[str] = list(info.get("class_names") or [])
        self.accuracy: float | None = info.get("heldout_accuracy")
        self.dataset: str = str(info.get("dataset", ""))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.channels, self.config.image_size, self.config.image_size)

    @property
    def num_features(self) -> int:
        return self.config.feature_dim

    def accepts(self, images: torch.Tensor) -> bool:
        """True if ``images`` (N, C, H, W) have the shape this classifier was trained on."""
        return images.ndim == 4 and tuple(images.shape[1:]) == self.image_shape

    @torch.no_grad()
    def _run(self, fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        if not self.accepts(images):
            raise ClassifierError("errors.metrics.classifier_shape", dataset=self.dataset,
                                  expected=str(self.image_shape), got=str(tuple(images.shape[1:])))
        x = images.detach().cpu()  # uint8 pixels or floats: each chunk becomes float in [-1, 1]
        return (torch.cat([fn(to_float_images(chunk)) for chunk in x.split(self.batch)]) if len(x)
                else fn(to_float_images(x)))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (N, feature_dim) of images in [-1, 1]."""
        return self._run(self.net.features, images)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(self.net, images)

    def probs(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities p(y|x), (N, num_classes)."""
        return self.logits(images).softmax(dim=1)


# --- training ------------------------------------------------------------------------------------

def stratified_split(labels: torch.Tensor, holdout: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, held-out): ``holdout`` of every class held out, chosen by a seeded shuffle."""
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"the held-out share must be between 0 and 1, not {holdout}")
    gen = torch.Generator().manual_seed(seed)
    train, held = [], []
    for c in labels.unique(sorted=True).tolist():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        k = max(1, round(holdout * len(idx)))
        held.append(idx[:k])
        train.append(idx[k:])
    return torch.cat(train).sort().values, torch.cat(held).sort().values


def random_batch_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Shift a whole batch by one random offset of up to ``max_shift`` pixels (background = -1).

    Training augmentation for the classifier; ``gan_core.trainer.random_shift`` (what D sees) draws
    one offset per image instead.
    """
    if max_shift <= 0:
        return x
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=gen).tolist()
    p = max_shift
    padded = F.pad(x, (p, p, p, p), value=-1.0)
    h, w = x.shape[-2:]
    return padded[:, :, p + dy:p + dy + h, p + dx:p + dx + w]


@torch.no_grad()
def accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    was_training = net.training
    net.eval()
    try:
        pred = torch.cat([net(to_float_images(chunk)).argmax(1) for chunk in images.split(500)])
    finally:
        net.train(was_training)
    return float((pred == labels).float().mean())


def train_classifier(dataset, epochs: int = 8, width: int = 16, batch_size: int = 64, lr: float = 3e-3,
                     holdout: float = 0.1, seed: int = 0, max_shift: int = 2,
                     progress: Callable[[int, float, float], None] | None = None) -> Classifier:
    """Train a classifier on ``dataset`` (an ImageDataset with labels), holding out a stratified share.

    Adam with a one-cycle learning-rate schedule, cross-entropy, random shifts as augmentation.
    ``progress(epoch, seconds, heldout_accuracy)`` is called after every epoch.
    """
    if dataset.labels is None or not dataset.class_names:
        raise ClassifierError("errors.metrics.classifier_no_labels", name=str(dataset.name))
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, not {epochs}")
    torch.manual_seed(seed)
    images, labels = dataset.images, dataset.labels
    train_idx, held_idx = stratified_split(labels, holdout, seed)
    config = ClassifierConfig(channels=dataset.channels, image_size=dataset.image_size,
                              num_classes=len(dataset.class_names), width=width)
    net = ClassifierNet(config)
    opt = torch.optim.Adam(net.parameters(), lr=lr / 3)
    steps_per_epoch = (len(train_idx) + batch_size - 1) // batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(seed + 1)
    start = time.perf_counter()
    held_acc = 0.0
    for epoch in range(1, epochs + 1):
        net.train()
        order = train_idx[torch.randperm(len(train_idx), generator=gen)]
        for idx in order.split(batch_size):
            batch = to_float_images(images[idx])
            loss = F.cross_entropy(net(random_batch_shift(batch, max_shift, gen)), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        held_acc = accuracy(net, images[held_idx], labels[held_idx])
        if progress is not None:
            progress(epoch, time.perf_counter() - start, held_acc)
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dataset": dataset.name,
        "class_names": list(dataset.class_names),
        "image_shape": [config.channels, config.image_size, config.image_size],
        "normalisation": "images in [-1, 1] (x = pixel / 127.5 - 1), as the generators output",
        "model": config.to_dict(),
        "heldout_accuracy": round(held_acc, 4),
        "train_accuracy": round(accuracy(net, images[train_idx], labels[train_idx]), 4),
        "train_size": len(train_idx),
        "heldout_size": len(held_idx),
        "heldout": f"{holdout:.0%} of every class, chosen with seed {seed}",
        "training": {"epochs": epochs, "batch_size": batch_size, "max_lr": lr, "optimizer": "Adam, one-cycle",
                     "augmentation": f"random shifts up to {max_shift} px", "seed": seed,
                     "seconds": round(time.perf_counter() - start, 1)},
        "versions": {"gan_core": gan_core.__version__, "torch": torch.__version__},
    }
    return Classifier(net, info)


# --- saving and loading -----------------------------------------------------------------------------

def save_classifier(classifier: Classifier, directory: str | Path, command: str = "") -> Path:
    """Write classifier.safetensors and classifier.json (weights first, then the JSON)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in classifier.net.state_dict().items()}
    _atomic_write(directory / WEIGHTS_FILE, st_save(state))
    info = {**classifier.info, "command": command, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    _atomic_write(directory / INFO_FILE, (json.dumps(info, indent=2) + "\n").encode())
    return directory


def _parse_info(raw: bytes, where: Path) -> tuple[dict, ClassifierConfig]:
    try:
        info = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ClassifierError("errors.metrics.classifier_json", path=str(where / INFO_FILE)) from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise ClassifierError("errors.metrics.classifier_format", path=str(where / INFO_FILE))
    if not isinstance(info.get("format_version"), int) or info["format_version"] > FORMAT_VERSION:
        raise ClassifierError("errors.metrics.classifier_version", path=str(where / INFO_FILE),
                              value=repr(info.get("format_version"))[:40])
    try:
        config = ClassifierConfig(**{k: int(v) for k, v in info["model"].items()})
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ClassifierError("errors.metrics.classifier_model", path=str(where / INFO_FILE), reason=str(exc)) from None
    names = info.get("class_names")
    if not isinstance(names, list) or len(names) != config.num_classes:
        raise ClassifierError("errors.metrics.classifier_names", path=str(where / INFO_FILE), names=repr(names)[:80],
                              n=config.num_classes)
    if config.channels not in (1, 3) or WIDTH.problem("width", config.width) or not 1 <= config.feature_dim <= 4096:
        raise ClassifierError("errors.metrics.classifier_implausible", path=str(where / INFO_FILE), config=str(config))
    return info, config


def load_classifier_dir(directory: str | Path) -> Classifier:
    """Load and validate a classifier folder written by ``save_classifier``."""
    directory = Path(directory)
    for name in (INFO_FILE, WEIGHTS_FILE):
        if not (directory / name).is_file():
            raise ClassifierError("errors.metrics.classifier_missing", path=str(directory), name=name)
    if (directory / INFO_FILE).stat().st_size > MAX_INFO_BYTES:
        raise ClassifierError("errors.metrics.classifier_large", path=str(directory / INFO_FILE))
    info, config = _parse_info((directory / INFO_FILE).read_bytes(), directory)
    net = ClassifierNet(config)
    try:
        _load_into(net, _load_tensors((directory / WEIGHTS_FILE).read_bytes(), WEIGHTS_FILE), WEIGHTS_FILE)
    except CheckpointError as exc:
        raise ClassifierError("errors.metrics.classifier_weights", path=str(directory), reason=str(exc)) from None
    return Classifier(net, info)
