"""Keep glibc's malloc from handing a training step's memory back to the kernel after every step.

A CPU training step allocates and frees the same large buffers (activations, gradients) every
step. With glibc's default, dynamic thresholds, freed memory at the top of a heap is returned to the
kernel (``brk`` shrink, ``MADV_DONTNEED`` on a thread's arena) and faulted in again on the next step:
on this project's DCGAN on MNIST that is 600-2,800 minor page faults and 1-7 ms of system time per
step, in a plain PyTorch loop and in a Run's thread alike (``benchmarks/host_allocator.py``). Fixing
the thresholds (``mallopt``) keeps those pages: the faults drop to about zero.

:func:`tune_host_allocator` does that once per process, when a Run first trains on the CPU. It is
process-wide (malloc has no per-thread setting) and costs resident memory: up to
:data:`TRIM_THRESHOLD` bytes of freed memory may stay with the process instead of going back to the
system. It does nothing on a C library other than glibc, when the user already chose thresholds with
glibc's own ``MALLOC_TRIM_THRESHOLD_`` / ``MALLOC_MMAP_THRESHOLD_`` variables, or when
``GENWIDGETS_HOST_ALLOCATOR=default`` is set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import threading

#: Environment variable: ``default`` leaves malloc's settings alone.
ALLOCATOR_ENV = "GENWIDGETS_HOST_ALLOCATOR"
#: glibc's ``mallopt`` parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Allocations at least this big are mmap'ed (and unmapped when freed). 32 MiB is glibc's ceiling on
#: 64-bit systems (HEAP_MAX_SIZE / 2); below it, buffers come from the heap and are reused.
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Free memory at the top of a heap is returned to the kernel only beyond this much.
TRIM_THRESHOLD = 512 * 1024 * 1024
_GLIBC_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")

_lock = threading.Lock()
_state: str | None = None


def tune_host_allocator() -> str:
    """Fix glibc's trim and mmap thresholds once for this process; return what was done, in words.

    Safe to call many times and from any thread: the first call decides, later calls return the
    same description. Never raises: where tuning does not apply, the description says why.
    """
    global _state
    with _lock:
        if _state is None:
            _state = _tune()
        return _state


def host_allocator_state() -> str:
    """What :func:`tune_host_allocator` did in this process, or ``"default"`` before it ran."""
    return _state or "default"


def _tune() -> str:
    if os.environ.get(ALLOCATOR_ENV, "").strip().lower() == "default":
        return f"default (${ALLOCATOR_ENV}=default)"
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return "default (not glibc)"
    if any(name in os.environ for name in _GLIBC_ENV):
        return "default (MALLOC_*_ variables set by the user)"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and libc.mallopt(
            M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    except (OSError, AttributeError):
        return "default (mallopt unavailable)"
    if not ok:
        return "default (mallopt refused the thresholds)"
    return f"glibc, mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold {TRIM_THRESHOLD >> 20} MiB"
