"""Training under ``torchrun``: PyTorch's DistributedDataParallel, one process per device.

    torchrun --nproc_per_node=2 -m genwidgets train dcgan --data mnist --steps 2000 --out runs/ddp

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) a :class:`~genwidgets.runtime.run.Run`:

* joins the process group (NCCL on CUDA, gloo on CPU) and places the model on ``cuda:LOCAL_RANK``;
* wraps each network of the model (every direct submodule with trainable parameters: a GAN's
  generator and discriminator, a VAE's encoder and decoder) in ``DistributedDataParallel``, so
  the model's own ``train_step`` (two optimisers for a GAN) runs unchanged and gradients are
  all-reduced in its ``backward`` calls;
* gives each rank its slice of every global batch (the config's ``batch_size`` is the global
  batch; each rank draws ``batch_size / world_size`` of the same shuffled order), so one step
  means what it means in a single process;
* lets only rank 0 write checkpoints and forward events to plugins (loggers); checkpoints hold
  the plain (unwrapped) state, loadable anywhere.

Batch norm: converted to ``SyncBatchNorm`` on CUDA (statistics over the global batch). On CPU
(gloo has no SyncBatchNorm) each rank normalises its own slice and keeps its own running
statistics; rank 0's are saved. Buffers are not broadcast in forward passes, so rank 0 can draw
its sample grids alone without a collective call.

Control: before every step rank 0 broadcasts its pause/stop flags and any live hyperparameter
edits over a gloo group on the CPU (:func:`broadcast_control`, JSON bytes, a few microseconds),
so every rank pauses, stops and changes a learning rate at the same step.

Limits: families whose ``train_step`` runs a network forward more than once before one backward
(``d_steps`` > 1, WGAN-GP's critic loop and gradient penalty) are refused under DDP.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..errors import ConfigError

# No buffer broadcast in forward passes (rank 0 draws sample grids alone). torch >= 2.13 names it
# forward_sync_buffers (buffers are still synced once when wrapping); older versions broadcast_buffers.
_NO_FORWARD_BUFFER_SYNC = ({"forward_sync_buffers": False}
                           if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters
                           else {"broadcast_buffers": False})


@dataclasses.dataclass(frozen=True)
class DistInfo:
    """Where the current process sits in a ``torchrun`` job."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        """True on rank 0 (checkpoints, events, output)."""
        return self.rank == 0


def from_env() -> DistInfo | None:
    """The job this process belongs to (from torchrun's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``), or None."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return None
    return DistInfo(rank=int(os.environ.get("RANK", "0")), world_size=world,
                    local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def device_for(info: DistInfo) -> str | None:
    """The device this rank trains on: ``cuda:LOCAL_RANK`` when CUDA is available, else None (CPU)."""
    return f"cuda:{info.local_rank}" if torch.cuda.is_available() else None


def init_process_group(device: torch.device) -> None:
    """Join the job's process group (once): NCCL for CUDA devices, gloo otherwise."""
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")


def check_supported(model: Any) -> None:
    """Refuse families that DDP cannot wrap as they are (several forwards before one backward)."""
    d_steps = getattr(model.config, "d_steps", 1)
    if d_steps != 1 or getattr(model.config, "gp_weight", None):
        raise ConfigError(
            f"model {model.name!r} runs its networks several times before one backward (d_steps={d_steps}"
            f"{', a gradient penalty' if getattr(model.config, 'gp_weight', None) else ''}), which "
            "DistributedDataParallel does not support; train it in one process, or set d_steps=1")


def wrap_networks(model: nn.Module, device: torch.device, info: DistInfo) -> None:
    """Wrap each trainable direct submodule of ``model`` in DistributedDataParallel, in place."""
    for name, child in list(model.named_children()):
        if not any(p.requires_grad for p in child.parameters()) or isinstance(child, DistributedDataParallel):
            continue
        if device.type == "cuda":
            child = nn.SyncBatchNorm.convert_sync_batchnorm(child)
        ids = [device.index] if device.type == "cuda" else None
        setattr(model, name, DistributedDataParallel(child, device_ids=ids, **_NO_FORWARD_BUFFER_SYNC))


def plain_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` with the ``module.`` level of wrapped networks removed (loadable anywhere)."""
    wrapped = {name for name, child in model.named_children() if isinstance(child, DistributedDataParallel)}
    out = {}
    for key, value in model.state_dict().items():
        head, _, rest = key.partition(".")
        if head in wrapped and rest.startswith("module."):
            key = f"{head}.{rest[len('module.'):]}"
        out[key] = value
    return out


def load_plain_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a plain state (from :func:`plain_state_dict` or a single-process run) into ``model``, wrapped or not."""
    wrapped = {name for name, child in model.named_children() if isinstance(child, DistributedDataParallel)}
    if wrapped:
        state = {(f"{head}.module.{rest}" if head in wrapped else key): value
                 for key, value in state.items() for head, _, rest in [key.partition(".")]}
    model.load_state_dict(state)


def control_group() -> Any:
    """A process group on the CPU for control messages (pause, stop, edits), so they never touch the GPU.

    The default group when it already uses gloo; a new gloo group otherwise. Call on every rank.
    """
    if dist.get_backend() == "gloo":
        return None
    return dist.new_group(backend="gloo")


def broadcast_control(flags: list[bool], edits: dict[str, Any], group: Any) -> tuple[list[bool], dict[str, Any]]:
    """Give every rank rank 0's control ``flags`` and hyperparameter ``edits`` (JSON, never pickle).

    One small int64 broadcast per call, plus one byte broadcast when there are edits. The
    arguments of other ranks are ignored; every rank returns rank 0's values.
    """
    payload = json.dumps(edits).encode() if edits else b""
    head = torch.tensor([int(f) for f in flags] + [len(payload)], dtype=torch.int64)
    dist.broadcast(head, src=0, group=group)
    values = head.tolist()
    size = values[-1]
    if size:
        buffer = (torch.frombuffer(bytearray(payload), dtype=torch.uint8) if len(payload) == size
                  else torch.empty(size, dtype=torch.uint8))
        dist.broadcast(buffer, src=0, group=group)
        edits = json.loads(bytes(buffer.tolist()))
    else:
        edits = {}
    return [bool(v) for v in values[:-1]], edits


def gather_pids(group: Any = None) -> list[int]:
    """Every rank's process id, in rank order (call on every rank)."""
    mine = torch.tensor([os.getpid()], dtype=torch.int64)
    out = [torch.zeros(1, dtype=torch.int64) for _ in range(dist.get_world_size())]
    dist.all_gather(out, mine, group=group)
    return [int(t) for t in out]


class SingleProcess:
    """Where a Run trains when it is not under torchrun: every method is a no-op.

    A Run asks its process group (this, or :class:`TorchrunProcess`) instead of branching on
    whether it is distributed; see :func:`process_group`.
    """

    info: DistInfo | None = None
    rank = 0
    world_size = 1
    is_main = True
    #: How long a paused loop waits between control checks (None: until resumed or stopped).
    pause_poll: float | None = None

    def check(self, model: Any) -> None:
        """Refuse a model this kind of process group cannot train (none, in one process)."""

    def join(self, model: nn.Module, device: torch.device) -> None:
        """Join the process group and wrap the model's networks (nothing to do in one process)."""

    def agree(self, flags: list[bool], edits: dict[str, Any]) -> tuple[list[bool], dict[str, Any]]:
        """Control flags and live edits as every rank will act on them: here, as given."""
        return flags, edits

    def pids(self) -> list[int]:
        """Every rank's process id (this one's)."""
        return [os.getpid()]


class TorchrunProcess(SingleProcess):
    """One rank of a torchrun job: DDP-wrapped networks, rank 0's control flags broadcast to every rank."""

    def __init__(self, info: DistInfo) -> None:
        """Stand for the rank ``info`` describes (from :func:`from_env`)."""
        self.info = info
        self.rank, self.world_size, self.is_main = info.rank, info.world_size, info.is_main
        # Rank 0 sends flags at least every 0.25 s while paused; other ranks wait inside the broadcast.
        self.pause_poll = 0.25 if info.is_main else 0.0
        self._control_group: Any = None

    def check(self, model: Any) -> None:
        """Refuse families DDP cannot wrap, and a global batch that does not divide over the ranks."""
        check_supported(model)
        if model.config.batch_size % self.world_size:
            raise ConfigError(f"batch_size {model.config.batch_size} (the global batch) must divide evenly "
                              f"over {self.world_size} processes")

    def join(self, model: nn.Module, device: torch.device) -> None:
        """Join the job's process group, make the control group, wrap every network in DDP."""
        init_process_group(device)
        self._control_group = control_group()
        assert self.info is not None
        wrap_networks(model, device, self.info)

    def agree(self, flags: list[bool], edits: dict[str, Any]) -> tuple[list[bool], dict[str, Any]]:
        """Rank 0's flags and edits, on every rank (a broadcast over the CPU control group)."""
        return broadcast_control(flags, edits, self._control_group)

    def pids(self) -> list[int]:
        """Every rank's process id, in rank order (call on every rank)."""
        return gather_pids(self._control_group)


def process_group() -> SingleProcess:
    """Where a Run in this process trains: a :class:`TorchrunProcess` under torchrun, else :class:`SingleProcess`."""
    info = from_env()
    return SingleProcess() if info is None else TorchrunProcess(info)
