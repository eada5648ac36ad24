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

genwidgets never deletes or overwrites what it did not write. A checkpoint is written only to a
new path, an empty folder, or over a checkpoint folder genwidgets wrote (it holds nothing but
``state.json`` and ``weights.safetensors``); anything else is refused with the fix in the message.
A checkpoint being pruned is first renamed to a hidden ``.trash-...`` name (one atomic step), so a
crash mid-delete never leaves a half-deleted checkpoint under a real name. Hidden temporaries
carry their writer's process id; :func:`clean_stale_temporaries` removes those of processes that
are gone (a crash, ``kill -9``) the next time a run writes beside them.

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
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError
from .checkpoint_state import STATE_FILE, WEIGHTS_FILE, load_state_json, validate_state

FORMAT_VERSION = 1
_STEP_DIR = re.compile(r"^step-(\d+)$")
#: Hidden names genwidgets gives its temporaries: ``.tmp-``/``.old-``/``.trash-`` + name + ``-<pid>-`` + random.
_TEMPORARY = re.compile(r"^\.(?:tmp|old|trash)-.+?-(\d+)-[A-Za-z0-9_]+$")
#: Temporaries of genwidgets before they carried a process id: ``.tmp-step-XXXXXXXX-<random>``.
_LEGACY_TEMPORARY = re.compile(r"^\.(?:tmp|old)-step-\d+-[A-Za-z0-9_]+$")
#: A legacy temporary (no process id to ask) is taken as stale once it is this old.
LEGACY_STALE_SECONDS = 3600.0
CHECKPOINT_FILES = frozenset({"state.json", "weights.safetensors"})
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
        head = fh.read(9)
    if _looks_like_safetensors(head, p.stat().st_size):
        return False  # its 8-byte header length may start with 0x80, like a pickle: look at the layout first
    # a raw pickle (protocol 2+) starts with 0x80; torch.save's default format is a zip archive
    return head[:1] == b"\x80" or head[:4] == b"PK\x03\x04"


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """A safetensors file: a little-endian u64 header length that fits the file, then a JSON object."""
    if len(head) < 9:
        return False
    header_length = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 8 + header_length <= size


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


def is_checkpoint_dir(path: str | os.PathLike) -> bool:
    """True if ``path`` is a folder that holds a genwidgets checkpoint and nothing else.

    Such a folder holds ``state.json`` and at most ``weights.safetensors`` beside it (a write
    puts both there together, so one without the other is a damaged checkpoint, still ours).
    """
    p = Path(path)
    if not p.is_dir() or p.is_symlink():
        return False
    names = {entry.name for entry in p.iterdir()}
    return STATE_FILE in names and names <= CHECKPOINT_FILES


def check_checkpoint_target(path: str | os.PathLike) -> Path:
    """Refuse a checkpoint path whose current contents genwidgets did not write; return it as a Path.

    A new path, an empty folder or a genwidgets checkpoint folder (see :func:`is_checkpoint_dir`)
    is fine: writing there deletes nothing of the user's.

    Raises:
        CheckpointError: ``path`` is a file, a link, or a folder holding anything else; the
            message names what is there and how to save instead.
    """
    p = Path(path)
    if p.is_symlink() or (p.exists() and not p.is_dir()):
        raise CheckpointError(
            f"refusing to save a checkpoint to {p}: a file (or link) is already there and genwidgets did not "
            "write it; save to a new path (a checkpoint is a folder), or move the file away yourself")
    if p.is_dir() and any(p.iterdir()) and not is_checkpoint_dir(p):
        shown = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in p.iterdir())
        listing = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
        raise CheckpointError(
            f"refusing to save a checkpoint to {p}: the folder holds files genwidgets did not write ({listing}) "
            "and saving would replace them; save to a new or empty folder (for example "
            f"{p / 'checkpoint'}), or over a checkpoint folder genwidgets wrote")
    return p


def _hidden_name(kind: str, name: str) -> str:
    """A hidden sibling name for a temporary of this process: ``.<kind>-<name>-<pid>-<random>``."""
    return f".{kind}-{name}-{os.getpid()}-{secrets.token_hex(4)}"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but is another user's (EPERM)
        return True
    return True


def clean_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove genwidgets' hidden temporaries in ``folder`` whose writer process is gone; return them.

    A checkpoint write, replacement or prune interrupted by a crash or ``kill -9`` leaves a hidden
    ``.tmp-``/``.old-``/``.trash-`` folder behind. Each carries its writer's process id, so only
    those of processes that no longer exist are removed (a temporary of a run still writing is
    kept). Temporaries from versions before the process id was recorded are removed once they
    are :data:`LEGACY_STALE_SECONDS` old. Nothing else is touched.
    """
    root = Path(folder)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    now = time.time()
    for entry in root.iterdir():
        match = _TEMPORARY.match(entry.name)
        if match is not None:
            stale = not _process_alive(int(match.group(1)))
        elif _LEGACY_TEMPORARY.match(entry.name):
            try:
                stale = now - entry.stat().st_mtime > LEGACY_STALE_SECONDS
            except OSError:
                continue
        else:
            continue
        if stale and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def remove_checkpoint(directory: str | os.PathLike) -> None:
    """Delete a checkpoint genwidgets wrote: renamed away in one atomic step first, then removed.

    Readers never see a half-deleted checkpoint under its real name; a crash midway leaves a
    hidden ``.trash-`` folder that :func:`clean_stale_temporaries` removes later.

    Raises:
        CheckpointError: ``directory`` is not a genwidgets checkpoint (nothing is deleted).
    """
    path = Path(directory)
    if not is_checkpoint_dir(path):
        raise CheckpointError(f"refusing to delete {path}: it is not a checkpoint folder genwidgets wrote")
    trash = path.parent / _hidden_name("trash", path.name)
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def write_checkpoint(
    directory: str | os.PathLike, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]
) -> Path:
    """Write a checkpoint atomically to ``directory``: a new path, an empty folder, or over a checkpoint.

    An existing checkpoint at ``directory`` is replaced only if genwidgets wrote it (see
    :func:`check_checkpoint_target`); a file or a folder holding anything else is refused.

    Args:
        directory: Final checkpoint directory, e.g. ``runs/x/checkpoints/step-00000200``.
        tensors: Every tensor to save; they are copied to contiguous CPU memory first.
        state: JSON-serialisable metadata.

    Returns:
        The final path.

    Raises:
        CheckpointError: ``directory`` holds something genwidgets did not write (nothing is
            written), or the write failed (disk full, permissions, unserialisable state). The
            temporary files are removed and any checkpoint already at ``directory`` or beside
            it is left as it was.
    """
    final = check_checkpoint_target(directory)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / _hidden_name("tmp", final.name)
        tmp.mkdir()
    except OSError as exc:
        raise CheckpointError(f"could not write checkpoint {final}: {exc}") from exc
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
        if final.exists():  # over an empty folder or our own checkpoint: move it aside first, then swap
            check_checkpoint_target(final)  # still ours (nothing was added while the weights were written)
            old = final.parent / _hidden_name("old", final.name)
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
    state = load_state_json(state_path)  # bounded: size and nesting
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint file {state_path} has format {state.get('format') if isinstance(state, dict) else '?'}; "
            f"this genwidgets reads format {FORMAT_VERSION}; upgrade genwidgets to read a newer checkpoint, or use "
            "the version that wrote it"
        )
    validate_state(state, state_path)
    expected = state.get("weights_sha256")
    if expected and _sha256(weights_path) != expected:
        raise CheckpointError(f"checkpoint file {weights_path} is corrupt or truncated (checksum mismatch)")
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint file {weights_path} is corrupt or truncated: {exc}") from exc
    return tensors, state


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoints under ``run_dir`` (or ``run_dir/checkpoints``), oldest first.

    A ``step-...`` folder missing either file (a damaged or half-deleted one) is not listed.
    """
    root = Path(run_dir)
    if (root / "checkpoints").is_dir():
        root = root / "checkpoints"
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir()
             if (m := _STEP_DIR.match(p.name)) and (p / STATE_FILE).is_file() and (p / WEIGHTS_FILE).is_file()]
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
