"""A small CNN trained on the embedded data: the feature space of FID/KID/P&R and the judge of labels.

No Inception weights can be downloaded, so image metrics use a classifier trained here,
reproducibly, on the *train* part of :func:`~genwidgets.data.splits.train_test_split`
(the idea of a domain classifier's features for FID is Heusel et al. 2017's metric computed in
another network's space; the "classifier accuracy on samples" for conditional models follows
Odena et al. 2017 and Shmelkov et al. 2018, "How good is my GAN?").

The network (:class:`ImageClassifier`) is two 3x3 conv + ReLU + 2x2 max-pool blocks (32 and 64
channels), an adaptive average pool to at most 7x7, a 128-unit ReLU layer (the features) and a
linear layer to the classes. It is trained with Adam in a fixed order from a fixed seed (the
recipe in :class:`ClassifierRecipe`), and its weights are cached as safetensors (never pickle)
under ``cache_dir()/classifiers/<data name>-<hash of recipe, spec and a data probe>.safetensors``,
written atomically; a missing or corrupt cache file is retrained.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..data.base import DataSpec, GenData
from ..data.cache import cache_dir, write_atomic
from ..data.splits import SPLIT_SEED, TEST_FRACTION, train_test_split
from ..errors import DataError

#: Bump when the network or the training loop changes in a way the recipe does not capture.
CLASSIFIER_VERSION = 2
#: Examples used to fingerprint the data in the cache key.
_PROBE = 256


@dataclasses.dataclass(frozen=True)
class ClassifierRecipe:
    """Everything that decides the classifier's weights (all of it goes into the cache key).

    Attributes:
        epochs: Passes over the train split (capped at ``max_train`` examples).
        batch_size: Examples per Adam step.
        lr: Adam learning rate at the start; it decays to zero on a cosine schedule.
        shift: Augmentation: each train image is translated by up to this fraction of its size
            (uniform, bilinear, per example; 2 px on 28x28), which buys about a point of held-out
            accuracy on MNIST-5k.
        min_steps: Small sets train for more epochs, so that there are at least this many steps.
        width: Channels of the first conv block (the second has twice as many).
        features: Size of the feature layer (the space FID/KID/P&R are measured in).
        seed: Seed of the initialisation and of the batch order.
        test_fraction: Held-out fraction of the split (see :mod:`~genwidgets.data.splits`).
        split_seed: Seed of the split.
        max_train: At most this many train examples are used (large sets such as dSprites).
        max_test: At most this many held-out examples are scored for the reported accuracy.
    """

    epochs: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    shift: float = 1 / 14
    min_steps: int = 1000
    width: int = 32
    features: int = 128
    seed: int = 0
    test_fraction: float = TEST_FRACTION
    split_seed: int = SPLIT_SEED
    max_train: int = 20_000
    max_test: int = 5_000

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


class ImageClassifier(nn.Module):
    """A small CNN for (N, C, H, W) images in [0, 1]; :meth:`features` is its 128-d penultimate layer."""

    def __init__(self, spec: DataSpec, *, width: int = 32, features: int = 128) -> None:
        super().__init__()
        if spec.kind != "images" or len(spec.shape) != 3 or not spec.num_classes:
            raise DataError(f"the classifier needs labelled (C, H, W) images, got {spec.kind} {spec.shape} "
                            f"with num_classes={spec.num_classes}")
        channels, height, width_px = spec.shape
        pooled = (max(1, min(height // 4, 7)), max(1, min(width_px // 4, 7)))
        self.spec = spec
        self.num_features = features
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.AdaptiveAvgPool2d(pooled), nn.Flatten(),
            nn.Linear(2 * width * pooled[0] * pooled[1], features), nn.ReLU(),
        )
        self.head = nn.Linear(features, spec.num_classes)
        # Set after training so that train features have unit root-mean-square per dimension, like
        # Inception's pool features have O(1) values: KID's cubic kernel is not scale-free.
        self.register_buffer("feature_scale", torch.ones(()))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (N, num_features) of images ``x`` (N, C, H, W) in [0, 1], rescaled.

        The rescaling (:attr:`feature_scale`, fixed when the classifier is trained) makes the train
        set's features have a root-mean-square of 1 per dimension.
        """
        return self.body(x.float()) * self.feature_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (N, num_classes)."""
        return self.head(self.body(x.float()))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, *, batch_size: int = 500) -> torch.Tensor:
        """Predicted class indices (N,) of images ``x``, computed in batches in eval mode."""
        was_training = self.training
        self.eval()
        try:
            device = next(self.parameters()).device
            out = [self(x[i : i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(x), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(out) if out else torch.zeros(0, dtype=torch.int64)


@dataclasses.dataclass
class TrainedClassifier:
    """A trained classifier with what it was trained on and how well it does on held-out data.

    Attributes:
        network: The :class:`ImageClassifier`, in eval mode, on the CPU.
        heldout_accuracy: Accuracy on the held-out split (at most ``recipe.max_test`` examples).
        n_train: Train examples used; ``n_test``: held-out examples scored.
        path: The cache file it was read from or written to (None if caching failed).
        cached: True if the weights came from the cache.
    """

    network: ImageClassifier
    heldout_accuracy: float
    n_train: int
    n_test: int
    recipe: ClassifierRecipe
    key: str
    path: Path | None
    cached: bool
    train_seconds: float = 0.0

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary (reported next to every image metric)."""
        return {"heldout_accuracy": round(self.heldout_accuracy, 4), "n_train": self.n_train, "n_test": self.n_test,
                "key": self.key, "cached": self.cached, "recipe": self.recipe.to_dict()}


def _take(data: GenData, indices: torch.Tensor, batch_size: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
    """Fetch ``data``'s examples at ``indices`` as CPU float images and int64 labels."""
    xs, ys = [], []
    for i in range(0, len(indices), batch_size):
        batch = data.get_batch(indices[i : i + batch_size])
        if batch.labels is None:
            raise DataError(f"the classifier needs labelled data; {data.name!r} has no labels")
        xs.append(batch.x.float().cpu())
        ys.append(batch.labels.long().cpu())
    return torch.cat(xs), torch.cat(ys)


def cache_key(data: GenData, recipe: ClassifierRecipe) -> str:
    """Cache key: the data name, plus a hash of the recipe, version, spec, size and the first examples."""
    probe_x, probe_y = _take(data, torch.arange(min(_PROBE, len(data))))
    digest = hashlib.sha256()
    meta = {"version": CLASSIFIER_VERSION, "recipe": recipe.to_dict(), "spec": data.spec.to_dict(), "size": len(data)}
    digest.update(json.dumps(meta, sort_keys=True).encode())
    digest.update(probe_x.contiguous().numpy().tobytes())
    digest.update(probe_y.contiguous().numpy().tobytes())
    safe_name = "".join(c if c.isalnum() or c in "-_" else "_" for c in data.name) or "data"
    return f"{safe_name}-{digest.hexdigest()[:16]}"


def classifier_path(key: str) -> Path:
    """Where the classifier with cache ``key`` lives."""
    return cache_dir() / "classifiers" / f"{key}.safetensors"


#: Embedded data sets whose classifier ships with the package (MNIST's takes 1-3 min of CPU to train).
SHIPPED: tuple[str, ...] = ("mnist",)
#: Where shipped classifiers live: files named like cache files, written by ``scripts/ship_classifiers.py``.
SHIPPED_DIR = Path(__file__).resolve().parent / "weights"


def shipped_path(key: str) -> Path:
    """Where a shipped classifier with cache ``key`` would be (read when the cache has none)."""
    return SHIPPED_DIR / f"{key}.safetensors"


def _save_atomic(path: Path, network: ImageClassifier, metadata: dict[str, str]) -> None:
    """Write the weights as safetensors, atomically (see :func:`genwidgets.data.cache.write_atomic`)."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    write_atomic(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def _load_cached(path: Path, spec: DataSpec, recipe: ClassifierRecipe) -> tuple[ImageClassifier, dict] | None:
    """The cached network and its metadata, or None if the file is missing, corrupt or does not fit."""
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
        tensors = load_file(str(path))
        # Built on the meta device, so that loading draws nothing from the global RNG (a run training
        # beside a widget that loads a classifier must not change), then given the file's tensors.
        with torch.device("meta"):
            network = ImageClassifier(spec, width=recipe.width, features=recipe.features)
        network.load_state_dict(tensors, strict=True, assign=True)
        info = json.loads(metadata["info"])
        float(info["heldout_accuracy"])
    except (SafetensorError, OSError, RuntimeError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
    if not all(torch.isfinite(p).all() for p in network.parameters()):
        return None
    return network.eval(), info


def _shifted(x: torch.Tensor, fraction: float, gen: torch.Generator) -> torch.Tensor:
    """Translate each image in ``x`` (N, C, H, W) by a uniform random offset of up to ``fraction`` of its size."""
    if fraction <= 0:
        return x
    n = x.shape[0]
    offset = (torch.rand(n, 2, generator=gen) * 2 - 1) * fraction * 2  # affine_grid spans [-1, 1]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, :, 2] = offset
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def train_classifier(
    data: GenData,
    recipe: ClassifierRecipe | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> TrainedClassifier:
    """Train the classifier on ``data``'s train split from scratch (no cache), reproducibly.

    Determinism: weights are initialised and batches ordered from generators seeded by
    ``recipe.seed``, on the CPU, without touching torch's global random state; repeated calls
    give the same weights (up to floating-point summation order if the thread count differs).
    Accuracy is measured on the held-out split.
    """
    import time

    recipe = recipe or ClassifierRecipe()
    train, test = train_test_split(data, recipe.test_fraction, recipe.split_seed)
    x, y = _take(train, torch.arange(min(len(train), recipe.max_train)))
    xt, yt = _take(test, torch.arange(min(len(test), recipe.max_test)))
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        network = ImageClassifier(data.spec, width=recipe.width, features=recipe.features)
    opt = torch.optim.Adam(network.parameters(), lr=recipe.lr)
    steps_per_epoch = -(-len(x) // recipe.batch_size)
    epochs = max(recipe.epochs, -(-recipe.min_steps // steps_per_epoch))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs * steps_per_epoch))
    gen = torch.Generator().manual_seed(recipe.seed + 1)
    network.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), recipe.batch_size):
            idx = order[i : i + recipe.batch_size]
            loss = F.cross_entropy(network(_shifted(x[idx], recipe.shift, gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        if progress is not None:
            progress(f"classifier epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}")
    network.eval()
    with torch.no_grad():
        raw = torch.cat([network.body(x[i : i + 1000]) for i in range(0, len(x), 1000)])
        network.feature_scale.fill_(1.0 / max(float(raw.square().mean().sqrt()), 1e-12))
    accuracy = float((network.predict(xt) == yt).float().mean()) if len(yt) else float("nan")
    return TrainedClassifier(network, accuracy, len(x), len(xt), recipe, key="", path=None, cached=False,
                             train_seconds=time.perf_counter() - t0)


def cached_classifier(data: GenData, recipe: ClassifierRecipe | None = None) -> TrainedClassifier | None:
    """The classifier for labelled image ``data`` if one is in the cache, else None (never trains).

    For looking (the latent explorer colours a GAN's map by predicted class when this is not None);
    metrics call :func:`get_classifier`, which trains one when the cache has none.
    """
    recipe = recipe or ClassifierRecipe()
    if data.spec.kind != "images" or not data.spec.num_classes:
        return None
    return _from_cache(data, recipe, cache_key(data, recipe))


def _from_cache(data: GenData, recipe: ClassifierRecipe, key: str) -> TrainedClassifier | None:
    """The classifier with ``key`` from the user's cache, else from the package's shipped ones, else None."""
    for path in (classifier_path(key), shipped_path(key)):
        cached = _load_cached(path, data.spec, recipe)
        if cached is not None:
            network, info = cached
            return TrainedClassifier(network, float(info["heldout_accuracy"]), int(info["n_train"]),
                                     int(info["n_test"]), recipe, key=key, path=path, cached=True)
    return None


def _info(trained: TrainedClassifier, data: GenData) -> dict[str, str]:
    """The metadata stored beside a classifier's weights (read back by :func:`_load_cached`)."""
    info = {"heldout_accuracy": trained.heldout_accuracy, "n_train": trained.n_train, "n_test": trained.n_test,
            "recipe": trained.recipe.to_dict(), "data": data.name, "version": CLASSIFIER_VERSION}
    return {"info": json.dumps(info)}


def ship_classifier(data: GenData, recipe: ClassifierRecipe | None = None) -> tuple[Path, TrainedClassifier]:
    """Train ``data``'s classifier and write it among the shipped ones (for ``scripts/ship_classifiers.py``)."""
    recipe = recipe or ClassifierRecipe()
    trained = train_classifier(data, recipe)
    trained.key = cache_key(data, recipe)
    path = shipped_path(trained.key)
    _save_atomic(path, trained.network, _info(trained, data))
    trained.path = path
    return path, trained


def get_classifier(
    data: GenData,
    recipe: ClassifierRecipe | None = None,
    *,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
) -> TrainedClassifier:
    """The classifier for labelled image ``data``: from the cache, or trained and cached.

    The cache file is keyed by ``data.name`` and a hash of the recipe, the classifier version, the
    data spec and size, and the first 256 examples (see :func:`cache_key`). A file that cannot be
    read, does not match the network, or has no accuracy record is retrained and replaced. When the
    cache has none, the classifier the package ships for the same key is used (MNIST:
    :data:`SHIPPED`), so that set needs no training. If the cache folder cannot be written, a
    warning is issued and the trained network is returned.

    Args:
        data: Labelled images (the full set; the classifier trains on its train split).
        recipe: Training recipe (default :class:`ClassifierRecipe`).
        use_cache: False always retrains and never writes.
        progress: Optional callback for one-line progress messages.
    """
    recipe = recipe or ClassifierRecipe()
    if data.spec.kind != "images" or not data.spec.num_classes:
        raise DataError(f"the classifier needs labelled images; {data.name!r} is {data.spec.kind} "
                        f"with num_classes={data.spec.num_classes}")
    key = cache_key(data, recipe)
    path = classifier_path(key)
    if use_cache:
        cached = _from_cache(data, recipe, key)
        if cached is not None:
            return cached
    if progress is not None:
        progress(f"training the {data.name} classifier (cache key {key}) ...")
    trained = train_classifier(data, recipe, progress=progress)
    trained.key = key
    if use_cache:
        try:
            _save_atomic(path, trained.network, _info(trained, data))
            trained.path = path
        except OSError as exc:
            warnings.warn(f"could not cache the classifier at {path} ({exc}); it will be retrained next time",
                          stacklevel=2)
    return trained
