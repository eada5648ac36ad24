"""Evaluations kept beside a run: ``run_dir/evaluations/step-XXXXXXXX.json``, one file per checkpoint.

``evaluate(checkpoint, save=True)`` (and ``genwidgets evaluate --save``) writes the result of an
evaluation next to the run it measured, so the runs board and a sweep's "metric against a
hyperparameter" plot read FID, MIG or the IW-NLL of every run without measuring again.

* One file per evaluated checkpoint step. Evaluating the same step again with other groups merges
  the groups into the file (``--metrics images`` then ``--metrics disentanglement`` keeps both); a
  group measured again replaces its old result.
* The file is written atomically and marked with :data:`MARK`; a file under that name that genwidgets
  did not write is refused, never overwritten.
* :func:`scalar_metrics` flattens a result to ``{"disentanglement.mig": 0.31, "images.fid": 41.2}``:
  the numbers a table or a plot can show (lists, dicts and text are left out).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..data.cache import write_atomic
from ..errors import ConfigError

FOLDER = "evaluations"
#: The key that marks an evaluation file as written by genwidgets.
MARK = "genwidgets_evaluation"
_FILE = re.compile(r"^step-(\d+)\.json$")
#: Numbers in a result that describe how it was measured, not what: left out of :func:`scalar_metrics`.
SETTINGS = frozenset({"n", "bins", "pr_k", "k", "seed", "iw_samples", "data_size", "n_train", "n_eval", "batch_size"})


def run_dir_of(checkpoint: str | Path) -> Path:
    """The run folder holding ``checkpoint`` (``run/checkpoints/step-N`` or ``run/step-N``)."""
    path = Path(checkpoint)
    parent = path.parent
    return parent.parent if parent.name == "checkpoints" else parent


def step_of(checkpoint: str | Path) -> int:
    """The step in a checkpoint folder's name (``step-00000200`` -> 200)."""
    match = re.fullmatch(r"step-(\d+)", Path(checkpoint).name)
    if match is None:
        raise ConfigError(f"{checkpoint} is not a checkpoint folder named step-N; save=True needs a run's checkpoint")
    return int(match.group(1))


def evaluation_path(run_dir: str | Path, step: int) -> Path:
    """Where the evaluation of ``run_dir``'s checkpoint at ``step`` is kept."""
    return Path(run_dir) / FOLDER / f"step-{step:08d}.json"


def save_evaluation(result: Mapping[str, Any], checkpoint: str | Path) -> Path:
    """Write (or merge into) the evaluation file of ``checkpoint``; returns its path.

    Raises:
        ConfigError: a file under that name was not written by genwidgets (it is left as it was), or
            ``checkpoint`` is not a run's checkpoint folder.
    """
    path = evaluation_path(run_dir_of(checkpoint), step_of(checkpoint))
    merged: dict[str, Any] = {MARK: 1, "step": step_of(checkpoint), "model": result.get("model"),
                              "data": result.get("data"), "metrics": {}, "seed": {}, "seconds": {}}
    if path.exists():
        old = _read(path)
        if old is None:
            raise ConfigError(f"{path} exists and was not written by genwidgets; it is left as it was: move it "
                              "away to save this evaluation")
        merged.update({k: old.get(k, merged[k]) for k in ("metrics", "seed", "seconds")})
    for group, values in result.get("metrics", {}).items():
        merged["metrics"][group] = values
        merged["seed"][group] = result.get("seed")
        merged["seconds"][group] = result.get("seconds", {}).get(group)
    text = json.dumps(merged, indent=1, allow_nan=False) + "\n"
    write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def load_evaluations(run_dir: str | Path) -> dict[int, dict[str, Any]]:
    """Every evaluation file genwidgets wrote in ``run_dir``, by checkpoint step (unreadable ones skipped)."""
    folder = Path(run_dir) / FOLDER
    found: dict[int, dict[str, Any]] = {}
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = _FILE.match(path.name)
        if match and (content := _read(path)) is not None:
            found[int(match.group(1))] = content
    return dict(sorted(found.items()))


def scalar_metrics(evaluation: Mapping[str, Any]) -> dict[str, float]:
    """The headline numbers of an evaluation, as ``"group.name" -> value``.

    Nested results are flattened (``disentanglement.factor_vae.accuracy``), a name repeated at the end
    collapses (``disentanglement.mig.mig`` is ``disentanglement.mig``), and breakdowns (``per_factor``,
    ``..._per_label``), settings (``n``, ``bins``...), booleans, lists and text are left out.
    """
    out: dict[str, float] = {}

    def walk(values: Mapping[str, Any], path: list[str]) -> None:
        for key, value in values.items():
            if key in SETTINGS or key.startswith("per_") or "_per_" in key:
                continue
            if isinstance(value, Mapping):
                walk(value, [*path, key])
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                name = path if key == path[-1] else [*path, key]
                out[".".join(name)] = float(value)

    for group, values in evaluation.get("metrics", {}).items():
        if isinstance(values, Mapping):
            walk(values, [group])
    return out


def _read(path: Path) -> dict[str, Any] | None:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) and content.get(MARK) == 1 else None


__all__ = ["FOLDER", "MARK", "evaluation_path", "load_evaluations", "run_dir_of", "save_evaluation",
           "scalar_metrics", "step_of"]
