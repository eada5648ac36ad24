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
        """Inverse of :meth:`to_dict`."""
        return cls(kind=d["kind"], shape=tuple(d["shape"]), num_classes=d.get("num_classes"))


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
            num_classes = int(self.labels.max().item()) + 1
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
