"""Sweeps: train every combination of some hyperparameters (and seeds), each as a normal run directory.

``genwidgets.sweep("beta_vae", data="dsprites", vary={"beta": [1, 4]}, seeds=[0, 1], steps=3000,
out="runs/beta")`` plans four runs, ``runs/beta/beta=1,seed=0`` ... ``runs/beta/beta=4,seed=1``, and
trains them one after another in the background. Every run directory is what ``genwidgets.train``
writes (checkpoints, metrics, samples), so every existing tool reads it.

* **The plan is checked before anything is written**: each combination must be a valid config of the
  family (the same validation as ``train``), so a typo fails at once, not after hours.
* **The sweep folder is claimed with a manifest**, ``sweep.json``, written atomically. A folder that
  holds files genwidgets' sweep did not write is refused, as is one holding a sweep of another plan:
  nothing is ever deleted or overwritten.
* **Resumable**: started again with the same plan, a sweep skips runs that reached ``steps``, resumes
  those that stopped part way from their newest checkpoint, and starts the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .data.cache import write_atomic
from .errors import ConfigError, GenwidgetsError
from .registry import get_registry
from .runtime import checkpoint as ckpt

#: The manifest a sweep writes into its folder (and the mark that the folder is a sweep's).
MANIFEST = "sweep.json"
MANIFEST_VERSION = 1
#: The plan's keys that must match for a sweep to continue in an existing folder.
PLAN_KEYS = ("model", "data", "steps", "preset", "config", "vary", "seeds")


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: its folder name, the values it varies, its seed and its folder."""

    name: str
    values: dict[str, Any]
    seed: int
    out: Path

    def config(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """The run's config overrides: the sweep's base config, this point's values and seed."""
        return {**base, **self.values, "seed": self.seed}


@dataclasses.dataclass(frozen=True)
class PointStatus:
    """Where a run of a sweep stands on disk.

    Attributes:
        state: ``"new"`` (no folder), ``"partial"`` (checkpoints short of the sweep's steps),
            ``"finished"`` (a checkpoint at the sweep's steps or later) or ``"broken"`` (a folder with
            no checkpoint to resume from).
        step: The newest checkpoint's step (0 when there is none).
        checkpoint: The newest checkpoint, or None.
    """

    state: str
    step: int
    checkpoint: Path | None


@dataclasses.dataclass(frozen=True)
class SweepPlan:
    """What a sweep trains: one family on one data set, every combination of ``vary`` for each seed."""

    model: str
    data: str
    steps: int
    out: Path
    vary: dict[str, list[Any]]
    seeds: list[int]
    preset: str | None = None
    config: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def points(self) -> list[SweepPoint]:
        """The runs, in order: the first varied key changes slowest, the seed fastest."""
        keys = list(self.vary)
        out = []
        for combo in itertools.product(*(self.vary[k] for k in keys)):
            values = dict(zip(keys, combo, strict=True))
            for seed in self.seeds:
                name = ",".join([*(f"{k}={_label(v)}" for k, v in values.items()), f"seed={seed}"])
                out.append(SweepPoint(name=name, values=values, seed=int(seed), out=self.out / name))
        return out

    def to_manifest(self) -> dict[str, Any]:
        """The JSON-ready manifest: the plan, and each run's folder name, values and seed."""
        return {"version": MANIFEST_VERSION, "model": self.model, "data": self.data, "steps": self.steps,
                "preset": self.preset, "config": self.config, "vary": self.vary, "seeds": self.seeds,
                "runs": [{"name": p.name, "values": p.values, "seed": p.seed} for p in self.points]}

    def status(self) -> list[tuple[SweepPoint, PointStatus]]:
        """Each run with where it stands on disk."""
        return [(p, point_status(p, self.steps)) for p in self.points]


def plan_sweep(model: str, data: str, *, vary: Mapping[str, Sequence[Any]], steps: int, out: str | os.PathLike,
               seeds: Iterable[int] = (0,), preset: str | None = None,
               config: Mapping[str, Any] | None = None) -> SweepPlan:
    """Check a sweep's options and every combination's config; returns the plan (nothing is written).

    Raises:
        ConfigError: an option or a combination's config is invalid (the message names it).
    """
    if not isinstance(model, str) or not isinstance(data, str):
        raise ConfigError("a sweep takes a registered model name and a registered data set name (its runs must "
                          "be reproducible from the manifest); for your own data, loop over genwidgets.train")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ConfigError(f"a sweep needs steps as a whole number >= 1, got {steps!r}")
    if not vary or not isinstance(vary, Mapping):
        raise ConfigError('vary must map config fields to lists of values, e.g. vary={"beta": [1, 4, 8]}')
    clean_vary: dict[str, list[Any]] = {}
    for key, values in vary.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ConfigError(f"vary[{key!r}] must be a non-empty list of values, got {values!r}")
        if len(set(map(_label, values))) != len(values):
            raise ConfigError(f"vary[{key!r}] repeats a value: {list(values)}")
        clean_vary[str(key)] = list(values)
    seed_list = [int(s) for s in seeds]
    if not seed_list or len(set(seed_list)) != len(seed_list):
        raise ConfigError(f"seeds must be a non-empty list of distinct integers, got {list(seeds)}")
    if "seed" in clean_vary:
        raise ConfigError("vary the seed with seeds=[...], not vary={'seed': ...}")
    base = dict(config or {})
    cls = get_registry().get_model(model)
    plan = SweepPlan(model=model, data=data, steps=steps, out=Path(out), vary=clean_vary, seeds=seed_list,
                     preset=preset, config=base)
    for point in plan.points:
        try:
            cls.Config.from_dict(point.config(base), preset=preset)
        except GenwidgetsError as exc:
            raise ConfigError(f"sweep run {point.name!r}: {exc}") from exc
    return plan


def claim(plan: SweepPlan) -> None:
    """Make ``plan.out`` this sweep's folder: write its manifest, or check the one there is the same plan.

    Raises:
        ConfigError: the folder holds files that are not a sweep's, or a sweep of another plan. Nothing
            is deleted or overwritten; the message says what differs and what to do.
    """
    folder = plan.out
    manifest = folder / MANIFEST
    wanted = plan.to_manifest()
    if manifest.is_file():
        try:
            found = json.loads(manifest.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{manifest} cannot be read ({exc}); it is not a sweep manifest genwidgets can "
                              "continue: choose a new out= folder") from exc
        differs = [k for k in PLAN_KEYS if _canonical(found.get(k)) != _canonical(wanted[k])]
        if differs:
            what = "; ".join(f"{k}: {found.get(k)!r} there, {wanted[k]!r} now" for k in differs)
            raise ConfigError(f"{folder} holds a sweep of another plan ({what}); continue it with the same "
                              "options, or choose a new out= folder")
        return
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"{folder} exists and is not a genwidgets sweep (no {MANIFEST}); genwidgets never "
                          "writes into a folder it did not make: choose a new out= folder or an empty one")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(manifest, lambda tmp: Path(tmp).write_text(json.dumps(wanted, indent=2) + "\n"))


def point_status(point: SweepPoint, steps: int) -> PointStatus:
    """Where ``point``'s run stands on disk (see :class:`PointStatus`)."""
    if not point.out.exists():
        return PointStatus("new", 0, None)
    found = ckpt.list_checkpoints(point.out)
    if not found:
        return PointStatus("broken", 0, None)
    step = int(found[-1].name.rsplit("-", 1)[-1])
    return PointStatus("finished" if step >= steps else "partial", step, found[-1])


def start_point(plan: SweepPlan, point: SweepPoint, status: PointStatus, **run_options: Any) -> Any:
    """A Run (not started) for ``point``: a new run, or the partial one resumed from its newest checkpoint.

    Raises:
        ConfigError: the run is finished or broken (there is nothing to start).
    """
    import genwidgets as gw

    if status.state == "partial":
        return gw.resume(status.checkpoint, steps=plan.steps, start=False, **run_options)
    if status.state == "new":
        return gw.train(plan.model, data=plan.data, steps=plan.steps, config=point.config(plan.config),
                        preset=plan.preset, out=point.out, start=False, **run_options)
    if status.state == "broken":
        raise ConfigError(f"{point.out} holds no checkpoint to resume from (the run stopped before its first); "
                          "move or delete that folder and start the sweep again to train it from the start")
    raise ConfigError(f"{point.out} already reached step {status.step} of {plan.steps}")


class Sweep:
    """A sweep training its runs one after another in a background thread.

    Attributes:
        plan: The :class:`SweepPlan`.
        current: The run training now (a :class:`~genwidgets.Run`), or None.
        outcomes: One entry per run handled so far: ``{"name", "dir", "was", "state", "step", "error"}``
            (``was``: where it stood when the sweep reached it).
        state: ``"idle"``, ``"running"``, ``"finished"``, ``"stopped"`` or ``"failed"`` (a run failed; the
            others still ran).
    """

    def __init__(self, plan: SweepPlan, *, on_run: Callable[[Any, SweepPoint], None] | None = None,
                 **run_options: Any) -> None:
        self.plan = plan
        self.current: Any = None
        self.outcomes: list[dict[str, Any]] = []
        self.state = "idle"
        self._run_options = run_options
        self._on_run = on_run
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> Sweep:
        """Claim the folder and start training in the background (returns at once)."""
        claim(self.plan)
        self.state = "running"
        self._thread = threading.Thread(target=self._loop, name="genwidgets-sweep", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every run is handled (or ``timeout`` seconds); True when the sweep is done."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def stop(self) -> None:
        """Stop after the current run saves a final checkpoint (a later start resumes it)."""
        self._stop.set()
        with self._lock:
            run = self.current
        if run is not None:
            run.stop()

    def _loop(self) -> None:
        failed = False
        for point, status in self.plan.status():
            if self._stop.is_set():
                break
            outcome = {"name": point.name, "dir": str(point.out), "was": status.state, "state": status.state,
                       "step": status.step, "error": None}
            if status.state != "finished":
                try:
                    run = start_point(self.plan, point, status, **self._run_options)
                    with self._lock:
                        self.current = run
                    if self._on_run is not None:
                        self._on_run(run, point)
                    if self._stop.is_set():  # stopped while the run was being built
                        run.stop()
                    run.start()
                    with contextlib.suppress(Exception):  # a failed run is recorded below; the sweep goes on
                        run.wait()
                    outcome.update(state=run.state, step=run.step_count, error=run.error_message or None)
                    failed = failed or run.state == "failed"
                except GenwidgetsError as exc:
                    outcome.update(state="failed", error=str(exc))
                    failed = True
                finally:
                    with self._lock:
                        self.current = None
            self.outcomes.append(outcome)
        self.state = "stopped" if self._stop.is_set() else "failed" if failed else "finished"

    def __repr__(self) -> str:
        done = sum(o["state"] == "finished" for o in self.outcomes)
        return (f"<Sweep {self.plan.model} on {self.plan.data}: {len(self.plan.points)} runs in {self.plan.out}, "
                f"{done} finished, {self.state}>")


def sweep(model: str, data: str = "mnist", *, vary: Mapping[str, Sequence[Any]], steps: int = 2000,
          out: str | os.PathLike, seeds: Iterable[int] = (0,), preset: str | None = None,
          config: Mapping[str, Any] | None = None, start: bool = True, **run_options: Any) -> Sweep:
    """Train every combination of ``vary`` for each seed, one after another in the background.

    Example::

        s = genwidgets.sweep("beta_vae", data="dsprites", vary={"beta": [1, 4, 8, 16]}, seeds=[0, 1],
                             steps=3000, out="runs/beta")
        s.wait()
        s.outcomes        # one entry per run: folder, state, step

    Args:
        model: A registered family name.
        data: A registered data set name (each run reloads it by name, so the sweep can resume).
        vary: Config fields and the values to try; every combination is a run.
        steps: Steps of every run.
        out: The sweep's folder (new or empty, or one holding this same sweep, which then continues).
        seeds: Seeds; each combination runs once per seed.
        preset: Config preset of every run (e.g. ``"tiny"``).
        config: Config overrides shared by every run.
        start: Start at once (False: call ``.start()``).
        **run_options: ``log_every``, ``sample_every``, ``checkpoint_every``, ``device``, ... as for
            :func:`genwidgets.train`.

    Raises:
        ConfigError: an option or a combination is invalid, or ``out`` holds something else (see
            :func:`claim`); raised before anything is written.
    """
    plan = plan_sweep(model, data, vary=vary, steps=steps, out=out, seeds=seeds, preset=preset, config=config)
    result = Sweep(plan, **run_options)
    if start:
        result.start()
    return result


def _label(value: Any) -> str:
    """A value as it appears in a run folder's name (filesystem-safe)."""
    text = json.dumps(value) if not isinstance(value, str) else value
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in text)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


__all__ = ["MANIFEST", "PointStatus", "Sweep", "SweepPlan", "SweepPoint", "claim", "plan_sweep", "point_status",
           "start_point", "sweep"]
