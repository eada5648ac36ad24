"""What a training set looks like to genwidgets: a spec, and batches fetched by index.

Conventions every model and widget relies on:

* images are float32 in ``[0, 1]``, shaped ``(N, C, H, W)``;
* points (2-D toys, tabular data) are float32, shaped ``(N, D)``;
* labels, where present, are int64 class indices in ``[0, num_classes)``.

A model maps to its own range inside ``train_step`` (a tanh GAN uses ``2x - 1``) and maps
back in ``sample``/``decode``, so every widget can show every model's output the same way.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch

DataKind = Literal["points", "images"]

#: Most classes genwidgets infers from labels alone (as ``max(label) + 1``). Labels are class
#: indices ``0..K-1``; larger values are usually ids or raw values, and a conditional model would
#: size a table per class. Pass ``num_classes=`` explicitly to go above it (up to MAX_NUM_CLASSES).
MAX_INFERRED_CLASSES = 10_000
#: Most classes any data set (or a checkpoint's data spec) may have: models size tables by it.
MAX_NUM_CLASSES = 1_000_000
#: Most values one example of a checkpoint's data spec may have (a 4096 x 4096 RGBA image):
#: a model sizes its layers by it, so a doctored spec must not make it allocate without bound.
MAX_SPEC_NUMEL = 4096 * 4096 * 4


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """The shape of one example and what comes with it; all a model needs to size itself.

    Attributes:
        kind: ``"images"`` for (C, H, W) arrays in [0, 1], ``"points"`` for flat vectors.
        shape: Shape of one example, e.g. ``(1, 28, 28)`` or ``(2,)``.
        num_classes: Number of label classes, or ``None`` for unlabelled data.
    """

    kind: DataKind
    shape: tuple[int, ...]
    num_classes: int | None = None

    @property
    def numel(self) -> int:
        """Number of values in one example."""
        return int(np.prod(self.shape))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for checkpoints and ``--json`` output."""
        return {"kind": self.kind, "shape": list(self.shape), "num_classes": self.num_classes}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataSpec:
        """Inverse of :meth:`to_dict`, validating what a file may have changed.

        Raises:
            DataError: ``kind`` is not "points"/"images", ``shape`` is not a list of positive
                ints (or has more than :data:`MAX_SPEC_NUMEL` values), or ``num_classes`` is not
                None or an int in ``[1, MAX_NUM_CLASSES]``; the message names the field.
        """
        from ..errors import DataError

        if not isinstance(d, Mapping):
            raise DataError(f"data spec must be a mapping with kind, shape and num_classes, got {type(d).__name__}")
        kind, shape, num_classes = d.get("kind"), d.get("shape"), d.get("num_classes")
        if kind not in ("points", "images"):
            raise DataError(f"data spec field 'kind' is {kind!r}; expected 'points' or 'images'")
        if not isinstance(shape, list | tuple) or not shape or not all(_is_int(v) and v > 0 for v in shape):
            raise DataError(f"data spec field 'shape' is {_short(shape)}; expected a list of positive integers")
        if int(np.prod([int(v) for v in shape], dtype=object)) > MAX_SPEC_NUMEL:
            raise DataError(f"data spec field 'shape' {_short(shape)} has more than {MAX_SPEC_NUMEL:,} values "
                            "per example; genwidgets does not build models that large")
        if num_classes is not None:
            check_num_classes(num_classes, what="data spec field 'num_classes'")
        return cls(kind=kind, shape=tuple(int(v) for v in shape), num_classes=num_classes)


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _short(v: Any, limit: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[:limit] + "..."


def check_num_classes(num_classes: Any, *, what: str = "num_classes") -> int:
    """``num_classes`` as an int, or a DataError unless it is an int in ``[1, MAX_NUM_CLASSES]``."""
    from ..errors import DataError

    if not _is_int(num_classes) or num_classes < 1:
        raise DataError(f"{what} is {_short(num_classes)}; expected a positive integer number of classes")
    if num_classes > MAX_NUM_CLASSES:
        raise DataError(f"{what} is {int(num_classes):,}, above genwidgets' limit of {MAX_NUM_CLASSES:,} classes; "
                        "labels must be class indices 0..K-1: remap them to fewer classes")
    return int(num_classes)


def infer_num_classes(max_label: int, n: int) -> int:
    """The class count ``max_label + 1`` that labels imply, bounded by :data:`MAX_INFERRED_CLASSES`.

    Args:
        max_label: The largest label.
        n: Number of examples (for the message).

    Raises:
        DataError: the labels imply more than MAX_INFERRED_CLASSES classes; the message says how
            to remap them or to pass ``num_classes=``.
    """
    from ..errors import DataError

    k = int(max_label) + 1
    if k > MAX_INFERRED_CLASSES:
        raise DataError(
            f"labels go up to {int(max_label):,}, which would mean {k:,} classes for {n:,} examples (genwidgets "
            f"infers at most {MAX_INFERRED_CLASSES:,} classes from labels); labels must be class indices 0..K-1: "
            "remap them (e.g. np.unique(labels, return_inverse=True)[1]), or pass num_classes= if there really "
            "are that many classes")
    return k


@dataclasses.dataclass
class Batch:
    """One training batch: inputs ``x`` and, for labelled data, ``labels``."""

    x: torch.Tensor
    labels: torch.Tensor | None = None

    def to(self, device: torch.device | str, *, non_blocking: bool = False) -> Batch:
        """Move the batch to ``device``."""
        return Batch(
            self.x.to(device, non_blocking=non_blocking),
            None if self.labels is None else self.labels.to(device, non_blocking=non_blocking),
        )

    def __len__(self) -> int:
        return int(self.x.shape[0])


class GenData(abc.ABC):
    """A training set genwidgets can batch from: a spec, a length, and ``get_batch(indices)``.

    Subclasses either hold tensors in memory (:class:`TensorData`) or build examples on
    demand (dSprites renders its images procedurally).
    """

    name: str = "data"
    spec: DataSpec
    class_names: Sequence[str] | None = None
    description: str = ""

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of examples."""

    @abc.abstractmethod
    def get_batch(self, indices: torch.Tensor) -> Batch:
        """Return the examples at ``indices`` (a 1-D int64 CPU tensor) as one batch."""

    def to(self, device: torch.device | str) -> GenData:
        """Prepare to serve batches on ``device`` (in-memory sets move there once); returns self."""
        return self

    def examples(self, n: int, *, seed: int = 0) -> Batch:
        """Return ``n`` examples chosen reproducibly at random (for plots and evaluation)."""
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self), generator=gen)[: min(n, len(self))]
        return self.get_batch(idx)

    def summary(self) -> dict[str, Any]:
        """Name, size and spec, JSON-ready."""
        return {"name": self.name, "size": len(self), **self.spec.to_dict(), "description": self.description}


class TensorData(GenData):
    """A training set held in memory as tensors (the common case)."""

    def __init__(
        self,
        x: torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        kind: DataKind,
        name: str = "data",
        class_names: Sequence[str] | None = None,
        description: str = "",
        num_classes: int | None = None,
        factors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        from ..errors import DataError
        from .validate import check_tensor_data

        self.x, self.labels = check_tensor_data(x, labels, kind=kind)
        if self.labels is not None and num_classes is None:
            num_classes = infer_num_classes(int(self.labels.max().item()), len(self.labels))
        elif num_classes is not None:
            num_classes = check_num_classes(num_classes)
        if self.labels is not None and int(self.labels.max()) >= num_classes:
            raise DataError(
                f"labels go up to {int(self.labels.max())}, out of range for num_classes={num_classes}; "
                f"labels must be class indices 0..{num_classes - 1}"
            )
        self.spec = DataSpec(kind=kind, shape=tuple(self.x.shape[1:]), num_classes=num_classes)
        self.name = name
        self.class_names = list(class_names) if class_names is not None else None
        self.description = description
        self.factors = dict(factors) if factors is not None else None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def get_batch(self, indices: torch.Tensor) -> Batch:
        """Index the in-memory tensors (on whatever device they live on)."""
        idx = indices if indices.device == self.x.device else indices.to(self.x.device)
        return Batch(self.x[idx], None if self.labels is None else self.labels[idx])

    def to(self, device: torch.device | str) -> TensorData:
        """Move the tensors to ``device`` once, so batches need no per-step copy."""
        self.x = self.x.to(device)
        if self.labels is not None:
            self.labels = self.labels.to(device)
        return self
