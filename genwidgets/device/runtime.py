"""One place that decides device, precision, seeds and threads; everything else asks it."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ..data.base import Batch
from ..errors import DeviceError
from .host_allocator import host_allocator_state

Precision = Literal["fp32", "bf16", "fp16"]

#: Environment variable that overrides the automatic device choice ("cpu", "cuda", "cuda:1", "mps").
DEVICE_ENV = "GENWIDGETS_DEVICE"
#: Environment variable that overrides the CPU thread count.
THREADS_ENV = "GENWIDGETS_NUM_THREADS"
#: Upper bound on CPU threads used by default. benchmarks/threads.py (figures in
#: benchmarks/RESULTS.md) measured, on a shared 2-core machine, 2 threads vs 1: DCGAN +12 %,
#: the MLP VAE 10x *slower* (OpenMP threads spin against the other busy processes). Small
#: models gain little from threads and lose a lot to oversubscription, so the default is half
#: the cores available (leaving the rest to the notebook, the browser and data loading), at most this.
DEFAULT_MAX_THREADS = 4
#: Marker attribute set on a network whose bound ``forward`` :func:`compile_network` compiled.
_COMPILED_FORWARD = "_genwidgets_compiled_forward"


def available_devices() -> list[str]:
    """Devices torch can use on this machine, best first (e.g. ``['cuda:0', 'cpu']``)."""
    out = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    out.append("cpu")
    return out


def select_device(requested: str | torch.device | None = None) -> torch.device:
    """Choose the device: the argument, else ``$GENWIDGETS_DEVICE``, else CUDA, MPS, CPU.

    Raises:
        DeviceError: the requested device does not exist here; the message lists those that do.
    """
    choice = requested if requested is not None else os.environ.get(DEVICE_ENV) or None
    available = available_devices()
    if choice is None or str(choice) == "auto":
        return torch.device(available[0])
    try:
        device = torch.device(choice)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"{choice!r} is not a device name; available here: {', '.join(available)}") from exc
    allowed = {torch.device(a) for a in available}
    if "cuda:0" in available:
        allowed.add(torch.device("cuda"))
    if device not in allowed:
        raise DeviceError(
            f"device {str(device)!r} is not available on this machine; available: {', '.join(available)}"
            f" (set {DEVICE_ENV} or pass device=... to choose one)"
        )
    return device


#: What :meth:`Runtime.autocast` returns in fp32 (``nullcontext`` is reusable and reentrant).
_NO_AUTOCAST = contextlib.nullcontext()


def default_precision(device: torch.device) -> Precision:
    """bf16 autocast on CUDA GPUs that support it, fp16 on older GPUs and MPS, fp32 on CPU."""
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "mps":
        return "fp16"
    return "fp32"


def default_channels_last(device: torch.device) -> bool:
    """True on CUDA, where cuDNN runs convolutions fastest on channels-last tensors; False elsewhere."""
    return device.type == "cuda"


def has_conv2d(model: nn.Module) -> bool:
    """Whether ``model`` contains a 2-D convolution or transposed convolution (channels-last applies)."""
    return any(isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for m in model.modules())


def compile_network(network: nn.Module) -> bool:
    """Compile ``network`` in place with :func:`torch.compile`; False when it already was.

    In place means the module object stays the same, so ``state_dict`` keys (and checkpoints)
    are unchanged: no ``_orig_mod.`` level as ``torch.compile(module)`` would add. Networks
    whose ``forward`` is user code use :meth:`nn.Module.compile`. For a network whose
    ``forward`` comes from ``torch.nn`` itself (a bare ``nn.Sequential``, a ``Linear``),
    ``nn.Module.compile`` traces nothing (dynamo skips torch.nn's frames; measured on
    torch 2.13), so its bound ``forward`` is compiled instead.
    """
    if getattr(network, "_compiled_call_impl", None) is not None or getattr(network, _COMPILED_FORWARD, False):
        return False
    forward_home = getattr(type(network).forward, "__module__", "") or ""
    if forward_home == "torch" or forward_home.startswith("torch."):
        network.forward = torch.compile(network.forward)  # type: ignore[method-assign]
        setattr(network, _COMPILED_FORWARD, True)
    else:
        network.compile()
    return True


def default_threads() -> int:
    """``$GENWIDGETS_NUM_THREADS``, else half the cores available to this process (1..DEFAULT_MAX_THREADS)."""
    if os.environ.get(THREADS_ENV):
        return max(1, int(os.environ[THREADS_ENV]))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores // 2, DEFAULT_MAX_THREADS))


@dataclasses.dataclass
class Runtime:
    """Device, precision, seed, thread count and speed settings for a model and its runs.

    Build one with :meth:`create`; models call :meth:`autocast` around forward passes and
    :meth:`backward_step` to apply a loss, which handles fp16 loss scaling. A
    :class:`~genwidgets.runtime.run.Run` hands every batch to :meth:`move_batch` and the model
    to :meth:`prepare_model` once, which is where the GPU path lives (pinned, non-blocking
    copies, channels-last, ``torch.compile``).

    Attributes:
        device: Where the model and its batches live.
        precision: ``"fp32"``, or the autocast dtype ``"bf16"`` / ``"fp16"``.
        seed: Seed of torch, numpy and Python's ``random``.
        num_threads: CPU threads torch uses (None: torch's default).
        channels_last: Convolutional models and their 4-D image batches use the
            ``torch.channels_last`` memory format (NHWC), which cuDNN's convolutions run fastest
            in. Only 2-D convolutional models are converted; results equal the contiguous
            layout's up to floating-point rounding. :meth:`create` turns it on for CUDA.
        compile: Compile each trainable network of the model with ``torch.compile`` before
            training (opt-in: the first steps pay the compile time, tens of seconds or more).
    """

    device: torch.device
    precision: Precision = "fp32"
    seed: int = 0
    num_threads: int | None = None
    channels_last: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        for option in ("channels_last", "compile"):
            value = getattr(self, option)
            if not isinstance(value, bool):
                raise DeviceError(f"{option} must be True or False, got {value!r}")
        # Whether batches go channels-last: only while every model prepared here is convolutional
        # (an MLP may .view() its input, which a channels-last RGB tensor refuses). None: none prepared.
        self._channels_last_inputs: bool | None = None
        self._scaler = None
        if self.precision == "fp16" and self.device.type == "cuda":
            self._scaler = torch.amp.GradScaler("cuda")

    @classmethod
    def create(
        cls,
        *,
        device: str | torch.device | None = None,
        precision: str = "auto",
        seed: int = 0,
        num_threads: int | None = None,
        channels_last: bool | str = "auto",
        compile: bool = False,
    ) -> Runtime:
        """Decide everything once: device (see :func:`select_device`), precision, threads, seed, speed.

        Args:
            device: "cpu", "cuda", "cuda:1", "mps", "auto" or None (automatic).
            precision: "auto" (see :func:`default_precision`), "fp32", "bf16" or "fp16".
            seed: Seeds torch, numpy and Python's ``random`` (see :meth:`seed_everything`).
            num_threads: CPU threads for torch; None for :func:`default_threads`. Note that
                torch's thread count is per process.
            channels_last: "auto" (see :func:`default_channels_last`: on for CUDA), True or
                False; True is allowed on any device.
            compile: Compile the model's networks with ``torch.compile`` before training.

        Raises:
            DeviceError: an unknown device, precision, or a ``channels_last`` / ``compile``
                value of the wrong kind; the message names the option and what it accepts.
        """
        if channels_last != "auto" and not isinstance(channels_last, bool):
            raise DeviceError(f"channels_last must be 'auto', True or False, got {channels_last!r}")
        if not isinstance(compile, bool):
            raise DeviceError(f"compile must be True or False, got {compile!r}")
        dev = select_device(device)
        if precision == "auto":
            precision = default_precision(dev)
        if precision not in ("fp32", "bf16", "fp16"):
            raise DeviceError(f"precision {precision!r} is unknown; use 'auto', 'fp32', 'bf16' or 'fp16'")
        if precision != "fp32" and dev.type == "cpu":
            raise DeviceError(f"precision {precision!r} autocast is for accelerators; on CPU use 'fp32' or 'auto'")
        if precision == "bf16" and dev.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise DeviceError("this GPU does not support bf16; use precision='fp16' or 'auto'")
        threads = num_threads if num_threads is not None else default_threads()
        if dev.type == "cpu" and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        if channels_last == "auto":
            channels_last = default_channels_last(dev)
        rt = cls(device=dev, precision=precision, seed=seed, num_threads=threads,  # type: ignore[arg-type]
                 channels_last=bool(channels_last), compile=compile)
        rt.seed_everything()
        return rt

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """The autocast dtype, or None when running in fp32."""
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Autocast context for forward passes (a no-op in fp32: one shared, reusable null context)."""
        if self.precision == "fp32":
            return _NO_AUTOCAST
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def backward_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Zero grads, backpropagate ``loss`` (scaled under fp16) and step ``optimizer``."""
        optimizer.zero_grad(set_to_none=True)
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            self._scaler.step(optimizer)
            self._scaler.update()
        else:
            loss.backward()
            optimizer.step()

    def seed_everything(self, seed: int | None = None) -> None:
        """Seed torch (CPU and every GPU), numpy's global generator and Python's ``random``."""
        seed = self.seed if seed is None else seed
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)

    def describe(self) -> dict[str, Any]:
        """Device, precision, threads, seed and speed settings, JSON-ready (shown by the panel and the CLI)."""
        return {"device": str(self.device), "precision": self.precision, "num_threads": self.num_threads,
                "seed": self.seed, "channels_last": self.channels_last, "compile": self.compile,
                "host_allocator": host_allocator_state(), "torch": torch.__version__}

    def move_batch(self, batch: Batch | torch.Tensor) -> Batch | torch.Tensor:
        """Put one training batch (a :class:`~genwidgets.data.base.Batch` or a tensor) where the model trains.

        On CUDA, a batch still on the CPU is copied from pinned (page-locked) memory with
        ``non_blocking=True``, so the copy overlaps the GPU's work instead of stalling the host;
        a batch already on the GPU (in-memory data moved there once) is not copied. With
        :attr:`channels_last`, once a convolutional model was prepared (:meth:`prepare_model`),
        4-D floating-point images come back in ``torch.channels_last`` format. On the CPU
        without channels-last this returns the batch as it is.
        """
        if isinstance(batch, Batch):
            x = self._move_tensor(batch.x)
            labels = None if batch.labels is None else self._move_tensor(batch.labels)
            return batch if x is batch.x and labels is batch.labels else Batch(x, labels)
        return self._move_tensor(batch)

    def _move_tensor(self, tensor: torch.Tensor) -> torch.Tensor:
        if tensor.device.type == "cpu" and self.device.type == "cuda":
            tensor = tensor.pin_memory().to(self.device, non_blocking=True)  # async host -> device copy
        elif tensor.device.type != self.device.type or (
                self.device.index is not None and tensor.device.index != self.device.index):
            tensor = tensor.to(self.device, non_blocking=True)
        if self._channels_last_inputs and tensor.dim() == 4 and tensor.is_floating_point():
            tensor = tensor.contiguous(memory_format=torch.channels_last)  # no copy when it already is
        return tensor

    def prepare_model(self, model: nn.Module) -> None:
        """Apply this runtime's speed settings to a model before it trains (idempotent).

        * :attr:`channels_last`: a model with 2-D (transposed) convolutions is converted in
          place to ``torch.channels_last`` (its 4-D weights change layout, not values), and
          batches follow (:meth:`move_batch`). Models without convolutions are left alone.
        * :attr:`compile`: each trainable direct child network (a GAN's generator and
          discriminator, a VAE's encoder and decoder) is compiled in place
          (:func:`compile_network`), so ``state_dict`` keys and checkpoints stay plain.
          Compilation happens lazily at the first forward pass.

        Calling it again on the same model (a second Run) changes nothing.
        """
        convolutional = has_conv2d(model)
        if self.channels_last and convolutional:
            model.to(memory_format=torch.channels_last)
        prepared = self.channels_last and convolutional
        self._channels_last_inputs = prepared if self._channels_last_inputs is None else (
            self._channels_last_inputs and prepared)
        if self.compile:
            for child in model.children():
                if isinstance(child, nn.parallel.DistributedDataParallel):
                    child = child.module
                if any(p.requires_grad for p in child.parameters()):
                    compile_network(child)

    @contextlib.contextmanager
    def inference(self) -> Iterator[None]:
        """``torch.no_grad`` plus autocast, for sampling and scoring."""
        with torch.no_grad(), self.autocast():
            yield
