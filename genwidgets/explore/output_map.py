"""Lay prior codes out by what the model makes of them (the map of a model without an encoder).

A GAN's codes are draws from N(0, I): any linear projection of 100-D Gaussian codes is a
featureless ball carrying 1-3 % of their variance, whatever the generator learned. What the
generator *makes* of the codes does carry information, so for maps of prior codes the explorer
places each code where its output lies in a feature space:

* **point data**: the output itself (for 2-D data, the data plane the heatmap shows);
* **images**: the penultimate features of the data set's classifier (the space FID is measured
  in, :mod:`genwidgets.metrics.classifier`), when one is available without training; the
  classifier's predicted class then colours the map. Without one, the output's pixels (at
  thumbnail size) are the features, and the map says so.

Features of more than two numbers are reduced to the map's plane by PCA fitted on the map's
outputs. A map point becomes a code (:meth:`OutputProjection.lift`) by blending the codes of
the nearest map points with inverse-distance weights, so that every map point gives back
exactly its own code and a drag between two points moves smoothly between their codes.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
import torch

from ..data.base import GenData
from ..model import GenerativeModel
from .latent_map import CHUNK, thumbnails
from .projection import PCAProjection, Projection, _as_codes

#: Nearest map points whose codes a lifted map point blends.
BLEND_NEIGHBOURS = 8
#: Short axis-title nouns of the feature spaces (the map's legend line names them in full).
AXIS_NOUNS = {"classifier features": "feature", "pixels": "pixel", "outputs": "output"}


@dataclasses.dataclass(frozen=True)
class OutputFeatures:
    """Turns a model's outputs into feature vectors, and optionally into predicted classes.

    Attributes:
        name: What the features are, for axis titles and legends (``"classifier features"``,
            ``"pixels"``, ``"outputs"``).
        features: Outputs (N, ...) float in the data's range -> features (N, F) float32.
        classify: Outputs -> (features, predicted class indices (N,) int32) in one pass, or None
            when nothing classifies.
        class_names: Names of the predicted classes (empty when ``classify`` is None).
        identity_axes: True when the features are the 2-D outputs themselves: the map's axes are
            then the data's own axes, not principal components.
    """

    name: str
    features: Callable[[torch.Tensor], np.ndarray]
    classify: Callable[[torch.Tensor], tuple[np.ndarray, np.ndarray]] | None = None
    class_names: tuple[str, ...] = ()
    identity_axes: bool = False


def output_features(model: GenerativeModel, data: GenData | None) -> OutputFeatures:
    """The feature space for ``model``'s outputs: the outputs, a cached classifier's features, or pixels.

    A classifier is used only when one for ``data`` is already trained (in the cache): opening an
    explorer never trains one. ``genwidgets evaluate`` (or any FID/KID metric) trains and caches it.
    """
    spec = model.data_spec
    if spec.kind != "images":
        width = int(np.prod(spec.shape))
        return OutputFeatures(name="outputs", features=_flat, identity_axes=width == 2)
    classifier = _cached_classifier(data, model)
    if classifier is None:
        return OutputFeatures(name="pixels", features=_pixels)
    network = classifier.network

    def classify(out: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        features, classes = [], []
        with torch.no_grad():
            for i in range(0, len(out), CHUNK):  # one pass of the body gives both the features and the logits
                hidden = network.body(out[i:i + CHUNK].float().clamp(0, 1))
                features.append((hidden * network.feature_scale).float())
                classes.append(network.head(hidden).argmax(1))
        return torch.cat(features).numpy(), torch.cat(classes).numpy().astype(np.int32)

    names = tuple(str(n) for n in (getattr(data, "class_names", None) or range(int(spec.num_classes or 0))))
    return OutputFeatures(name="classifier features", features=lambda out: classify(out)[0], classify=classify,
                          class_names=names)


def _flat(out: torch.Tensor) -> np.ndarray:
    return out.reshape(len(out), -1).float().numpy()


def _pixels(out: torch.Tensor) -> np.ndarray:
    return thumbnails(out.float().clamp(0, 1)).reshape(len(out), -1).astype(np.float32) / 255.0


def _cached_classifier(data: GenData | None, model: GenerativeModel):  # -> TrainedClassifier | None
    if data is None or not model.data_spec.num_classes or data.spec.shape != model.data_spec.shape:
        return None
    from ..metrics.classifier import cached_classifier  # the metrics layer is heavier; load it only here

    try:
        return cached_classifier(data)
    except Exception as exc:  # a damaged cache must not keep the explorer from opening
        warnings.warn(f"genwidgets: could not read the cached classifier for {data.name!r} ({exc}); the map "
                      "lays outputs out by their pixels instead", stacklevel=2)
        return None


class OutputProjection(Projection):
    """Codes placed where their outputs' features lie (PCA of the features, or the 2-D outputs themselves).

    Args:
        codes: (N, d) the map's codes.
        features: (N, F) features of their outputs.
        embed: Codes (k, d) -> features (k, F) of their outputs (decodes with the model), used to
            place a code that is not on the map (the probe after a slider move).
        what: What the features are (``OutputFeatures.name``), for the axis titles.
        identity_axes: The features are 2-D outputs: use them as the map's axes unchanged.
    """

    def __init__(self, codes: np.ndarray, features: np.ndarray, embed: Callable[[np.ndarray], np.ndarray], *,
                 what: str, identity_axes: bool = False) -> None:
        self.codes = _as_codes(codes)
        self.latent_dim = self.codes.shape[1]
        features = np.asarray(features, dtype=np.float32).reshape(len(self.codes), -1)
        self.what = what
        self.identity_axes = identity_axes and features.shape[1] == 2
        self._pca = None if self.identity_axes else PCAProjection(features)
        self._embed = embed
        self.points = self._reduce(features)

    def reduce(self, features: np.ndarray) -> np.ndarray:
        """Map points (k, 2) of output features (k, F) (what :meth:`project` does after decoding)."""
        return self._reduce(np.asarray(features, dtype=np.float32).reshape(len(features), -1))

    def _reduce(self, features: np.ndarray) -> np.ndarray:
        if self._pca is None:
            return np.asarray(features, dtype=np.float32).reshape(-1, 2).copy()
        return self._pca.project(features)

    def project(self, codes: np.ndarray) -> np.ndarray:
        """Where the outputs of ``codes`` (k, d) lie on the map (decodes them)."""
        codes = _as_codes(codes, self.latent_dim)
        return self._reduce(np.asarray(self._embed(codes), dtype=np.float32).reshape(len(codes), -1))

    def map_points(self, codes: np.ndarray) -> np.ndarray:
        """The map points of the codes this projection was fitted on (no decoding)."""
        if codes is self.codes or (codes.shape == self.codes.shape and np.array_equal(codes, self.codes)):
            return self.points
        return self.project(codes)

    def lift(self, point: np.ndarray, base: np.ndarray) -> np.ndarray:
        """The codes of the nearest map points blended by inverse squared distance (``base`` is unused).

        On a map point this is that point's code; the blend keeps the neighbours' mean length, so a
        blended Gaussian code is not pulled towards the origin (where GAN outputs are atypical).
        """
        point = np.asarray(point, dtype=np.float64).reshape(1, 2)
        d2 = np.square(self.points.astype(np.float64) - point).sum(axis=1)
        k = min(BLEND_NEIGHBOURS, len(d2))
        near = np.argpartition(d2, k - 1)[:k]
        if d2[near].min() <= 1e-12:
            return self.codes[near[np.argmin(d2[near])]].copy()
        weights = 1.0 / d2[near]
        weights /= weights.sum()
        neighbours = self.codes[near].astype(np.float64)
        blended = weights @ neighbours
        length = float(weights @ np.linalg.norm(neighbours, axis=1))
        norm = float(np.linalg.norm(blended))
        if norm > 1e-12:
            blended *= length / norm
        return blended.astype(np.float32)

    def centre(self) -> np.ndarray:
        """The mean of the map's codes."""
        return self.codes.mean(axis=0).astype(np.float32)

    def axis_titles(self) -> tuple[str, str]:
        """``('output x', 'output y')`` for 2-D outputs, else the principal components of the features."""
        if self._pca is None:
            return ("output x", "output y")
        share, noun = self._pca.explained, AXIS_NOUNS.get(self.what, self.what)
        return (f"{noun} PC 1 ({100 * share[0]:.0f} %)", f"{noun} PC 2 ({100 * share[1]:.0f} %)")

    def describe(self) -> str:
        """One line for the legend: where each code is placed."""
        if self._pca is None:
            return "each code placed at its output"
        return f"each code placed by its output's {self.what} (PCA: {100 * sum(self._pca.explained):.0f} %)"

    @staticmethod
    def describe_lift() -> str:
        """What lifting a map point does, in words."""
        return "a map point's code blends the codes of the nearest outputs (inverse-distance weights)"
