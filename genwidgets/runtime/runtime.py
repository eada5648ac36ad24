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

from ..errors import DeviceError

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


def default_precision(device: torch.device) -> Precision:
    """bf16 autocast on CUDA GPUs that support it, fp16 on older GPUs and MPS, fp32 on CPU."""
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "mps":
        return "fp16"
    return "fp32"


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
    """Device, precision, seed and thread count for a model and its runs.

    Build one with :meth:`create`; models call :meth:`autocast` around forward passes and
    :meth:`backward_step` to apply a loss, which handles fp16 loss scaling.
    """

    device: torch.device
    precision: Precision = "fp32"
    seed: int = 0
    num_threads: int | None = None

    def __post_init__(self) -> None:
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
    ) -> Runtime:
        """Decide everything once: device (see :func:`select_device`), precision, threads, seed.

        Args:
            device: "cpu", "cuda", "cuda:1", "mps", "auto" or None (automatic).
            precision: "auto" (see :func:`default_precision`), "fp32", "bf16" or "fp16".
            seed: Seeds torch, numpy and Python's ``random`` (see :meth:`seed_everything`).
            num_threads: CPU threads for torch; None for :func:`default_threads`. Note that
                torch's thread count is per process.
        """
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
        rt = cls(device=dev, precision=precision, seed=seed, num_threads=threads)  # type: ignore[arg-type]
        rt.seed_everything()
        return rt

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """The autocast dtype, or None when running in fp32."""
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Autocast context for forward passes (a no-op in fp32)."""
        dtype = self.autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=dtype)

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
        """Device, precision, threads and seed, JSON-ready (shown by the panel and the CLI)."""
        return {"device": str(self.device), "precision": self.precision, "num_threads": self.num_threads,
                "seed": self.seed, "torch": torch.__version__}

    def move_batch(self, batch: torch.Tensor) -> torch.Tensor:
        """Move one training batch to this runtime's device (a no-op when it is already there)."""
        return batch.to(self.device, non_blocking=True)

    def prepare_model(self, model: torch.nn.Module) -> None:
        """Apply device-specific speed settings to a model before it trains (none yet)."""

    @contextlib.contextmanager
    def inference(self) -> Iterator[None]:
        """``torch.no_grad`` plus autocast, for sampling and scoring."""
        with torch.no_grad(), self.autocast():
            yield
