"""Checkpoints: safetensors for every tensor, JSON for everything else, written atomically.

A checkpoint is a directory ``step-00000200/`` holding

* ``weights.safetensors`` — model parameters and buffers (``model.*``), optimizer tensors
  (``optim.<name>.<param index>.<key>``) and RNG state (``rng.*``);
* ``state.json`` — format version, model name, config, data spec, counters, optimizer
  hyperparameters, RNG state that is not a tensor, and the SHA-256 of the weights file.

It is written into a hidden temporary directory beside its final name, flushed to disk, and
renamed into place, so a crash or a failed write never leaves a half-written checkpoint
under a real name: readers only ever see complete checkpoints, and the previous one is
never touched.

Nothing is ever unpickled by default. A pickle-based file (``.pt``, ``.pth``, ... as written by
``torch.save``) can run arbitrary code when it is loaded, so it is refused with an explanation;
:func:`load_tensor_file` reads one only with ``allow_pickle=True``, and even then through
``torch.load(weights_only=True)``, which rejects anything but tensors and plain containers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError

FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
STATE_FILE = "state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")
#: File endings of pickle-based formats (``torch.save``, ``pickle``); refused unless allowed.
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin")
_PICKLE_HINT = ("genwidgets checkpoints are safetensors + JSON directories. Unpickling a file can run "
                "arbitrary code, so pickle-based files are never loaded by default")


def is_pickle_file(path: str | os.PathLike) -> bool:
    """True if ``path`` is a file in a pickle-based format (by its ending or its first bytes)."""
    p = Path(path)
    if not p.is_file():
        return False
    if p.suffix.lower() in PICKLE_SUFFIXES:
        return True
    with open(p, "rb") as fh:
        head = fh.read(4)
    # a raw pickle (protocol 2+) starts with 0x80; torch.save's default format is a zip archive
    return head[:1] == b"\x80" or head == b"PK\x03\x04"


def refuse_pickle(path: str | os.PathLike) -> CheckpointError:
    """The error for a pickle-based file given where a checkpoint was expected."""
    return CheckpointError(
        f"refusing to load {path}: it is a pickle-based file (torch.save/pickle). {_PICKLE_HINT}. If you "
        "trust it, load its weights into a model you built with "
        "genwidgets.api.load_weights(model, path, allow_pickle=True), which uses torch.load(weights_only=True)")


def load_tensor_file(path: str | os.PathLike, *, allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """Read a flat ``name -> tensor`` file: safetensors always; pickle-based only with ``allow_pickle``.

    A pickle-based file is read with ``torch.load(weights_only=True)`` on the CPU, which refuses
    to build arbitrary objects, and must hold a mapping of names to tensors (a ``state_dict``).

    Raises:
        CheckpointError: the file is missing, corrupt, pickle-based without ``allow_pickle``,
            or holds something other than tensors.
    """
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"no weights file at {p}")
    if is_pickle_file(p):
        if not allow_pickle:
            raise refuse_pickle(p)
        try:
            loaded = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError, RuntimeError, ...
            raise CheckpointError(
                f"could not load {p} with torch.load(weights_only=True): {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}. Only tensors and plain containers are allowed"
            ) from exc
        if not (isinstance(loaded, Mapping)
                and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items())):
            raise CheckpointError(f"{p} does not hold a state_dict (a mapping of names to tensors)")
        return dict(loaded)
    try:
        return load_file(str(p))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{p} is not a readable safetensors file: {exc}") from exc


def checkpoint_name(step: int) -> str:
    """Directory name of the checkpoint at ``step``."""
    return f"step-{step:08d}"


def optimizer_to_flat(
    name: str, optimizer: torch.optim.Optimizer
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state dict into tensors (for safetensors) and JSON."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{name}.{idx}.{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_flat(
    name: str, optimizer: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]
) -> None:
    """Load what :func:`optimizer_to_flat` produced back into ``optimizer``."""
    prefix = f"optim.{name}."
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            idx, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(idx), {})[field] = value
    for idx, values in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(values)
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
              for g in meta["param_groups"]]  # JSON turned tuples (Adam's betas) into lists
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(
    directory: str | os.PathLike, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]
) -> Path:
    """Write a checkpoint atomically to ``directory`` (which must not exist yet, or is replaced).

    Args:
        directory: Final checkpoint directory, e.g. ``runs/x/checkpoints/step-00000200``.
        tensors: Every tensor to save; they are copied to contiguous CPU memory first.
        state: JSON-serialisable metadata.

    Returns:
        The final path.

    Raises:
        CheckpointError: the write failed (disk full, permissions, unserialisable state). The
            temporary files are removed and any checkpoint already at ``directory`` or beside
            it is left as it was.
    """
    final = Path(directory)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        save_file(cpu, str(tmp / WEIGHTS_FILE))
        full_state = {"format": FORMAT_VERSION, **state, "weights_sha256": _sha256(tmp / WEIGHTS_FILE)}
        with open(tmp / STATE_FILE, "w", encoding="utf-8") as fh:
            json.dump(full_state, fh, indent=1, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        with open(tmp / WEIGHTS_FILE, "rb") as fh:
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
        if final.exists():  # overwrite: move the old one aside first, then swap
            old = final.parent / f".old-{final.name}-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        _fsync_dir(final.parent)
    except (OSError, TypeError, ValueError, SafetensorError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CheckpointError(f"could not write checkpoint {final}: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_checkpoint(directory: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by :func:`write_checkpoint`, verifying it is complete.

    Raises:
        CheckpointError: the directory or a file is missing, truncated, corrupt, or from an
            unknown format; the message names the file.
    """
    path = Path(directory)
    state_path, weights_path = path / STATE_FILE, path / WEIGHTS_FILE
    if not path.is_dir():
        raise CheckpointError(
            f"no checkpoint at {path}: expected a directory containing {STATE_FILE} and {WEIGHTS_FILE}")
    for required in (state_path, weights_path):
        if not required.is_file():
            raise CheckpointError(f"checkpoint {path} is incomplete: {required.name} is missing")
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"checkpoint file {state_path} is corrupt: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint file {state_path} has format {state.get('format') if isinstance(state, dict) else '?'}; "
            f"this genwidgets reads format {FORMAT_VERSION}; upgrade genwidgets to read a newer checkpoint, or use "
            "the version that wrote it"
        )
    expected = state.get("weights_sha256")
    if expected and _sha256(weights_path) != expected:
        raise CheckpointError(f"checkpoint file {weights_path} is corrupt or truncated (checksum mismatch)")
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint file {weights_path} is corrupt or truncated: {exc}") from exc
    return tensors, state


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoints under ``run_dir`` (or ``run_dir/checkpoints``), oldest first."""
    root = Path(run_dir)
    if (root / "checkpoints").is_dir():
        root = root / "checkpoints"
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _STEP_DIR.match(p.name))]
    return [p for _, p in sorted(found)]


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """Accept a checkpoint directory, or a run directory (its newest checkpoint).

    Raises:
        CheckpointError: nothing usable at ``path``; a pickle-based file is refused (see
            :func:`refuse_pickle`).
    """
    p = Path(path)
    if is_pickle_file(p):
        raise refuse_pickle(p)
    if (p / STATE_FILE).exists():
        return p
    found = list_checkpoints(p)
    if not found:
        raise CheckpointError(
            f"no checkpoint at {p}: it is neither a checkpoint directory nor a run directory with one")
    return found[-1]
