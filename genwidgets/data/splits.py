"""A fixed, deterministic train / held-out split of any :class:`~genwidgets.data.base.GenData`.

MNIST-5k (and the other embedded sets) ship without an official test split, so genwidgets
defines one: the examples are put in a seeded random order (``torch.randperm`` with a CPU
generator seeded by ``seed``, default :data:`SPLIT_SEED` = 0), and the *last*
``round(len(data) * test_fraction)`` of that order are held out (default
:data:`TEST_FRACTION` = 0.2: the last 1,000 of MNIST-5k). The order depends only on
``len(data)`` and ``seed``, so every caller (training code, the metrics, the classifier
behind FID) sees the same split.

The two parts are :class:`SubsetData` views: nothing is copied, and each keeps the name, spec,
class names and any mode centres (toys) or factor accessors (dSprites) of the full set.
"""

from __future__ import annotations

from typing import Any

import torch

from ..data.base import Batch, GenData
from ..errors import DataError

#: Fraction of the examples held out by default (MNIST-5k: the last 1,000 of the seeded order).
TEST_FRACTION = 0.2
#: Seed of the order the split is cut from.
SPLIT_SEED = 0
#: Attributes a view copies from the full set when present (toy mode centres, dSprites factor grid).
_SHARED_ATTRIBUTES = ("modes", "mode_std", "factor_names", "factor_sizes", "factor_grid")


class SubsetData(GenData):
    """The examples of ``base`` at ``indices`` (a view: batches are fetched from ``base``).

    Attributes:
        base: The full data set.
        indices: 1-D int64 CPU tensor of the base indices this view holds, in view order.
        split: ``"train"``, ``"test"`` or a caller's label.
        source: How to rebuild this view from a registered data set, JSON-ready (``{"name",
            "options", "split": {"part", "test_fraction", "seed"}}``), for views made by
            :func:`train_test_split`; None otherwise. A run records it, so ``resume`` trains on
            the same part, not on the full set.
    """

    def __init__(self, base: GenData, indices: torch.Tensor, *, split: str = "subset") -> None:
        idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1).cpu()
        if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= len(base)):
            raise DataError(f"subset indices must lie in [0, {len(base)}) for {base.name!r}")
        self.base = base
        self.indices = idx
        self.split = split
        self.source: dict[str, Any] | None = None
        self.name = base.name
        self.spec = base.spec
        self.class_names = base.class_names
        self.description = f"{split} part ({len(idx)} of {len(base)} examples) of {base.name}: {base.description}"
        for attr in _SHARED_ATTRIBUTES:
            if hasattr(base, attr):
                setattr(self, attr, getattr(base, attr))

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def get_batch(self, indices: torch.Tensor) -> Batch:
        """The base set's examples at ``self.indices[indices]``."""
        return self.base.get_batch(self.indices[torch.as_tensor(indices, dtype=torch.int64).cpu()])

    def to(self, device: torch.device | str) -> SubsetData:
        """Move the base set to ``device``; returns self."""
        self.base.to(device)
        return self

    def base_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Indices into :attr:`base` of this view's examples at ``indices``."""
        return self.indices[torch.as_tensor(indices, dtype=torch.int64).cpu()]

    def factors(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Ground-truth factors of this view's examples at ``indices`` (only if the base set has factors)."""
        if not hasattr(self.base, "factors"):
            raise AttributeError(f"{self.base.name!r} has no ground-truth factors")
        return self.base.factors(self.base_indices(indices))

    def summary(self) -> dict[str, Any]:
        """Name, size, spec and which split this is, JSON-ready."""
        return {**super().summary(), "split": self.split, "base_size": len(self.base)}


def split_order(n: int, seed: int = SPLIT_SEED) -> torch.Tensor:
    """The seeded order of ``range(n)`` the split is cut from (same on every platform)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def train_test_split(
    data: GenData, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
) -> tuple[SubsetData, SubsetData]:
    """Split ``data`` into ``(train, test)`` views, deterministically.

    The held-out part is the last ``round(len(data) * test_fraction)`` examples of
    :func:`split_order` (for MNIST-5k with the defaults: 1,000 examples, 100 +- a few per class);
    the train part is the rest, in that order. MNIST-5k has no official split (the 5,000 digits
    are a subset of the MNIST training set, LeCun et al. 1998), so this split is genwidgets'
    convention: train generators on ``train`` and report held-out numbers on ``test``.

    Args:
        data: Any GenData (in-memory or rendered on demand).
        test_fraction: Fraction held out, in (0, 1).
        seed: Seed of the order.

    Raises:
        DataError: ``test_fraction`` is out of range, or either part would be empty.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise DataError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    n = len(data)
    n_test = round(n * float(test_fraction))
    if n_test < 1 or n_test >= n:
        raise DataError(f"cannot hold out {test_fraction:g} of {n} examples: one part would be empty")
    order = split_order(n, seed)
    parts = (SubsetData(data, order[: n - n_test], split="train"), SubsetData(data, order[n - n_test :], split="test"))
    for part in parts:
        part.source = {"name": data.name, "options": dict(getattr(data, "source_options", None) or {}),
                       "split": {"part": part.split, "test_fraction": float(test_fraction), "seed": int(seed)}}
    return parts


def rebuild_split(base: GenData, split: dict[str, Any]) -> SubsetData:
    """The part of ``base`` a recorded ``split`` (see :attr:`SubsetData.source`) names."""
    train, test = train_test_split(base, split["test_fraction"], split["seed"])
    if split["part"] not in ("train", "test"):
        raise DataError(f"a recorded split part must be 'train' or 'test', got {split['part']!r}")
    return train if split["part"] == "train" else test


def disjoint_indices(n_total: int, sizes: tuple[int, ...], seed: int) -> list[torch.Tensor]:
    """Disjoint random index sets of the given ``sizes`` from ``range(n_total)`` (seeded).

    Raises:
        DataError: the sets together need more than ``n_total`` examples.
    """
    if sum(sizes) > n_total:
        raise DataError(f"need {sum(sizes)} distinct examples ({' + '.join(map(str, sizes))}), have {n_total}")
    order = torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))
    out, start = [], 0
    for size in sizes:
        out.append(order[start : start + size])
        start += size
    return out
