"""A map of latent space: codes of many examples, with their labels and thumbnails.

Where the codes come from depends on what the model can do, never on its name:

* ``"encode"``: the model encodes held data (a VAE's posterior means). Chosen by ``"auto"``
  when the model can encode with one network pass (``encode_cost == "forward"``).
* ``"prior"``: codes drawn from the prior N(0, I), with the model's outputs for them as
  thumbnails (any model that decodes: a GAN, whose encode is a slow inversion). Given
  :class:`~.output_map.OutputFeatures`, the map also keeps the outputs' features (to lay the codes
  out by what the model makes of them) and, where a classifier is at hand, colours unconditional
  models' codes by the predicted class of their outputs.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from ..data.base import GenData
from ..errors import CapabilityError, ConfigError
from ..images import to_uint8
from ..metrics.likelihood import has_posterior
from ..model import GenerativeModel

if TYPE_CHECKING:
    from .output_map import OutputFeatures

Source = Literal["auto", "encode", "prior"]
SOURCES: tuple[str, ...] = ("auto", "encode", "prior")
#: Largest side of a hover thumbnail (larger images are shrunk by area averaging).
THUMB_SIZE = 32
#: Examples encoded or decoded per forward pass while building a map.
CHUNK = 500


@dataclasses.dataclass
class LatentMap:
    """Codes and what goes with them.

    Attributes:
        codes: (N, latent_dim) float32.
        labels: (N,) int32 class labels, or None.
        thumbs: (N, h, w, c) uint8 thumbnails of the examples (images only), or None.
        points: (N, D) float32 examples in data space (point data only), or None.
        source: ``"encode"`` or ``"prior"``.
        description: One line saying what the codes are, for the widget's legend.
        kl: (latent_dim,) mean KL(q(z_j|x) || N(0, 1)) per dimension in nats, when the model
            has a Gaussian posterior (see :func:`genwidgets.metrics.likelihood.has_posterior`); else None.
        features: (N, F) float32 features of the outputs of prior codes (see :mod:`.output_map`), or None.
        label_kind: What ``labels`` are: ``"class"`` (the data's or the conditioning label) or
            ``"predicted class"`` (a classifier's verdict on the output).
        label_names: Names of the label values (may be empty: the values are then their names).
    """

    codes: np.ndarray
    labels: np.ndarray | None
    thumbs: np.ndarray | None
    points: np.ndarray | None
    source: str
    description: str
    kl: np.ndarray | None = None
    features: np.ndarray | None = None
    label_kind: str = "class"
    label_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.codes)


def choose_source(model_cls: type[GenerativeModel], source: str, *, have_data: bool) -> str:
    """Resolve ``source`` (``auto``/``encode``/``prior``) against what the model and data allow."""
    if source not in SOURCES:
        raise ConfigError(f"map source must be one of {', '.join(SOURCES)}, got {source!r}")
    can_encode = model_cls.capabilities.can_encode
    if source == "encode":
        if not can_encode:
            raise CapabilityError(
                f"model {model_cls.name!r} cannot encode data (it lacks the 'can_encode' capability); "
                "use source='prior' to map codes drawn from the prior")
        if not have_data:
            raise ConfigError("source='encode' needs data to encode; pass data=... (a name, array or GenData)")
        return "encode"
    if source == "prior":
        return "prior"
    return "encode" if can_encode and have_data and model_cls.encode_cost == "forward" else "prior"


def build_map(model: GenerativeModel, data: GenData | None, *, n: int, source: str = "auto",
              seed: int = 0, features: OutputFeatures | None = None) -> LatentMap:
    """Encode ``n`` examples of ``data`` or decode ``n`` prior codes; see the module docstring.

    ``features`` (prior codes only) turns the decoded outputs into :attr:`LatentMap.features`.

    Call under ``model.evaluating()`` and ``torch.no_grad()`` (see :class:`~.model_view.ModelView`).
    """
    if n < 1:
        raise ConfigError(f"the map needs at least one point, got n={n}")
    chosen = choose_source(type(model), source, have_data=data is not None)
    if chosen == "encode":
        assert data is not None
        return _encoded(model, data, n, seed)
    return _from_prior(model, n, seed, features)


def _encoded(model: GenerativeModel, data: GenData, n: int, seed: int) -> LatentMap:
    if data.spec.shape != model.data_spec.shape:
        raise ConfigError(
            f"the data's examples are shaped {data.spec.shape} but model {model.name!r} was built for "
            f"{model.data_spec.shape}; pass the data the model was trained on")
    batch = data.examples(n, seed=seed)
    x = batch.x.float().cpu()
    labels = batch.labels.cpu() if batch.labels is not None else None
    conditional = model.capabilities.conditional and labels is not None
    codes, kls = [], []
    posterior = model.posterior if has_posterior(model) else None
    for i in range(0, len(x), CHUNK):
        xb = x[i:i + CHUNK].to(model.device)
        lb = labels[i:i + CHUNK].to(model.device) if conditional else None
        if posterior is not None:
            mean, logvar = posterior(xb)
            codes.append(mean.float().cpu())
            kls.append((0.5 * (mean.square() + logvar.exp() - 1.0 - logvar)).float().sum(0).cpu())
        else:
            codes.append(model.encode(xb, labels=lb).float().cpu())
    z = torch.cat(codes).numpy().astype(np.float32)
    kl = (torch.stack(kls).sum(0) / len(x)).numpy() if kls else None
    what = "posterior means" if kl is not None else "codes"
    return LatentMap(
        codes=z, labels=None if labels is None else labels.numpy().astype(np.int32),
        thumbs=thumbnails(x) if model.data_spec.kind == "images" else None,
        points=None if model.data_spec.kind == "images" else x.numpy().reshape(len(x), -1).astype(np.float32),
        source="encode", description=f"{what} of {len(z):,} examples of {data.name}", kl=kl)


def _from_prior(model: GenerativeModel, n: int, seed: int, features: OutputFeatures | None) -> LatentMap:
    d = model.latent_dim
    if d < 1:
        raise CapabilityError(f"model {model.name!r} reports no latent space (latent_dim={d})")
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=gen)
    classes = model.data_spec.num_classes if model.capabilities.conditional else None
    labels = torch.arange(n) % classes if classes else None
    outs = [decode(model, z[i:i + CHUNK], None if labels is None else labels[i:i + CHUNK])
            for i in range(0, n, CHUNK)]
    out = torch.cat(outs)
    images = model.data_spec.kind == "images"
    codes_labels = None if labels is None else labels.numpy().astype(np.int32)
    label_kind, label_names = "class", ()
    feats = None
    if features is not None and codes_labels is None and features.classify is not None:
        feats, codes_labels = features.classify(out)
        label_kind, label_names = "predicted class", features.class_names
    elif features is not None:
        feats = features.features(out)
    described = f"{n:,} codes drawn from the prior N(0, I), with the model's outputs"
    if label_kind == "predicted class":
        described += ", coloured by the class a classifier sees in them"
    return LatentMap(
        codes=z.numpy().astype(np.float32), labels=codes_labels,
        thumbs=thumbnails(out) if images else None,
        points=None if images else out.numpy().reshape(n, -1).astype(np.float32),
        source="prior", description=described,
        features=None if feats is None else np.asarray(feats, dtype=np.float32),
        label_kind=label_kind, label_names=label_names)


def decode(model: GenerativeModel, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """The model's outputs (on the CPU, float32) for codes ``z``, with ``labels`` for conditional models."""
    z = z.to(model.device, torch.float32)
    if model.capabilities.conditional:
        if labels is None:
            labels = torch.zeros(len(z), dtype=torch.long)
        return model.decode(z, labels=labels.to(model.device, torch.long)).float().cpu()
    return model.decode(z).float().cpu()


def thumbnails(images: torch.Tensor, size: int = THUMB_SIZE) -> np.ndarray:
    """uint8 (N, h, w, c) thumbnails of images (N, C, H, W) in [0, 1], shrunk to at most ``size`` px."""
    h, w = images.shape[-2:]
    if max(h, w) > size:
        scale = size / max(h, w)
        images = F.interpolate(images.float(), size=(max(1, round(h * scale)), max(1, round(w * scale))),
                               mode="area")
    return to_uint8(images)


def describe_fill(fill: str, source: str) -> str:
    """What lifting a map point does with the components the map does not show, in words."""
    if fill == "nearest":
        origin = "encoded example" if source == "encode" else "prior code"
        return f"the other components come from the nearest {origin} on the map"
    return "the other components are zero (the map's centre)"


def summary(latent_map: LatentMap) -> dict[str, Any]:
    """Size, source and description of a map, JSON-ready."""
    return {"n": len(latent_map), "source": latent_map.source, "description": latent_map.description}
