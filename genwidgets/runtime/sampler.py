"""Reproducible, resumable batch order: shuffled epochs from a dedicated generator."""

from __future__ import annotations

from typing import Any

import torch


class EpochSampler:
    """Yield index batches that shuffle each epoch, and resume exactly from a saved state.

    The permutation of each epoch comes from a private ``torch.Generator`` (so data order
    does not depend on, or disturb, the global RNG). The state is the generator state at the
    start of the current epoch plus the position within it; restoring it regenerates the same
    permutation and skips to the same place. The last partial batch of an epoch is dropped,
    unless the data set is smaller than one batch, in which case every batch is the whole set.
    """

    def __init__(self, size: int, batch_size: int, *, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        if size <= 0:
            raise ValueError("cannot sample batches from an empty data set")
        # Under DDP every rank walks the same shuffled order; each takes its slice of each global batch.
        self.rank, self.world_size = rank, world_size
        self.size = size
        self.batch_size = min(batch_size, size)
        self._gen = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.position = 0
        self._epoch_start_state = self._gen.get_state()
        self._perm = torch.randperm(size, generator=self._gen)

    def next_indices(self) -> torch.Tensor:
        """The indices of the next batch (a 1-D int64 CPU tensor); this rank's slice of it under DDP."""
        if self.position + self.batch_size > self.size:
            self.epoch += 1
            self.position = 0
            self._epoch_start_state = self._gen.get_state()
            self._perm = torch.randperm(self.size, generator=self._gen)
        idx = self._perm[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return idx[self.rank :: self.world_size] if self.world_size > 1 else idx

    def state_dict(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """(tensors, json) for a checkpoint."""
        return {"sampler.generator": self._epoch_start_state.clone()}, {
            "epoch": self.epoch, "position": self.position, "size": self.size, "batch_size": self.batch_size}

    def load_state_dict(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` (the data size must match)."""
        if meta["size"] != self.size:
            raise ValueError(f"the checkpoint was trained on {meta['size']} examples, this data has {self.size}")
        self._gen.set_state(tensors["sampler.generator"])
        self._epoch_start_state = self._gen.get_state()
        self._perm = torch.randperm(self.size, generator=self._gen)
        self.epoch, self.position = meta["epoch"], meta["position"]
