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
* **Several at once, as processes**: ``parallel=K`` trains up to K runs at the same time, each in its own
  process started by the launcher (:func:`genwidgets.launch` with one process, no DDP), each held to one
  CPU thread. K is capped at the CPU cores this process may use (:func:`usable_cores`): a larger K is
  lowered with a warning, not refused, so a sweep written on a big machine still runs on a laptop, only
  slower. The run folders are what a run in the kernel writes (the worker process trains an ordinary
  Run); the processes' spec and log go to ``out/.workers/NAME/`` (hidden, so boards skip it).
  ``parallel=1``, the default, trains in the kernel's background thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import queue
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data.cache import write_atomic
from .errors import ConfigError, GenwidgetsError
from .registry import get_registry
from .runtime import checkpoint as ckpt

if TYPE_CHECKING:
    from .launcher import LaunchedRun

#: The manifest a sweep writes into its folder (and the mark that the folder is a sweep's).
MANIFEST = "sweep.json"
MANIFEST_VERSION = 1
#: The plan's keys that must match for a sweep to continue in an existing folder.
PLAN_KEYS = ("model", "data", "steps", "preset", "config", "vary", "seeds")
#: The folder (under the sweep's) holding each process run's spec and log, ``.workers/NAME/workers.log``.
WORKERS = ".workers"
#: Options a parallel sweep sets itself for every process run.
PROCESS_OWNED = ("processes", "threads", "work_dir", "resume")


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

    _check_startable(plan, point, status)
    if status.state == "partial":
        return gw.resume(status.checkpoint, steps=plan.steps, start=False, **run_options)
    return gw.train(plan.model, data=plan.data, steps=plan.steps, config=point.config(plan.config),
                    preset=plan.preset, out=point.out, start=False, **run_options)


def launch_point(plan: SweepPlan, point: SweepPoint, status: PointStatus, **run_options: Any) -> LaunchedRun:
    """A :class:`~genwidgets.LaunchedRun` (not started) training ``point`` in its own process, on one CPU thread.

    Like :func:`start_point` (a new run, or the partial one resumed from its newest checkpoint into its own
    folder), but trained by one launcher worker; its spec and log go to ``plan.out/.workers/NAME/``.

    Raises:
        ConfigError: the run is finished or broken, or an option cannot go to a process.
    """
    from .launcher import launch

    _check_startable(plan, point, status)
    check_process_options(run_options)
    common = {"processes": 1, "threads": 1, "steps": plan.steps, "out": point.out,
              "work_dir": plan.out / WORKERS / point.name, "start": False, **run_options}
    if status.state == "partial":
        return launch(resume=status.checkpoint, **common)
    return launch(plan.model, plan.data, config=point.config(plan.config), preset=plan.preset, **common)


def _check_startable(plan: SweepPlan, point: SweepPoint, status: PointStatus) -> None:
    """Raise ConfigError when ``point`` is broken or finished (there is nothing to start)."""
    if status.state == "broken":
        raise ConfigError(f"{point.out} holds no checkpoint to resume from (the run stopped before its first); "
                          "move or delete that folder and start the sweep again to train it from the start")
    if status.state == "finished":
        raise ConfigError(f"{point.out} already reached step {status.step} of {plan.steps}")


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the system has one, else every core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def cap_parallel(parallel: int, *, stacklevel: int = 2) -> int:
    """``parallel`` checked, and lowered (with a RuntimeWarning) to :func:`usable_cores` when above it.

    Each process run uses one CPU thread, so more runs than cores would only share them.

    Raises:
        ConfigError: ``parallel`` is not a whole number >= 1.
    """
    if not isinstance(parallel, int) or isinstance(parallel, bool) or parallel < 1:
        raise ConfigError(f"parallel must be a whole number >= 1 (runs at once), got {parallel!r}")
    cores = usable_cores()
    if parallel > cores:
        warnings.warn(f"parallel={parallel} is more than the {cores} CPU cores this process may use; running "
                      f"{cores} at once (each run is a process with one thread, more would only share the cores)",
                      RuntimeWarning, stacklevel=stacklevel + 1)
        return cores
    return parallel


def check_process_options(run_options: Mapping[str, Any]) -> None:
    """Refuse run options a process run cannot take: its own process options, or values that are not JSON.

    Raises:
        ConfigError: the message names the option.
    """
    owned = sorted(set(run_options) & set(PROCESS_OWNED))
    if owned:
        raise ConfigError(f"a parallel sweep sets {', '.join(owned)} itself (one process, one thread per run); "
                          "leave them out")
    for key, value in run_options.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"run option {key}={value!r} cannot go to a run's process (its options travel as "
                              f"JSON: {exc}); use parallel=1 to train in the kernel with it") from exc


class Sweep:
    """A sweep training its runs in the background: one after another, or ``parallel`` at once as processes.

    Attributes:
        plan: The :class:`SweepPlan`.
        parallel: Runs trained at once (1: one after another in a background thread of this process; more:
            each in its own process, see :func:`launch_point`).
        outcomes: One entry per run handled so far, in the order they ended: ``{"name", "dir", "was", "state",
            "step", "error"}`` (``was``: where it stood when the sweep reached it), with ``evaluation`` (or
            ``evaluation_error``) when the sweep evaluates its runs.
        evaluate: Metric groups each finished run is measured with (kept in its ``evaluations/`` folder).
        state: ``"idle"``, ``"running"``, ``"finished"``, ``"stopped"`` or ``"failed"`` (a run failed; the
            others still ran).
    """

    def __init__(self, plan: SweepPlan, *, parallel: int = 1,
                 on_run: Callable[[Any, SweepPoint], None] | None = None, evaluate: Sequence[str] | None = None,
                 evaluate_n: int | None = None, **run_options: Any) -> None:
        self.plan = plan
        self.evaluate = check_evaluate(evaluate)
        self.evaluate_n = evaluate_n
        self.parallel = cap_parallel(parallel, stacklevel=2)
        if self.parallel > 1:
            check_process_options(run_options)
        self.outcomes: list[dict[str, Any]] = []
        self.state = "idle"
        self._run_options = run_options
        self._on_run = on_run
        self._running: dict[str, Any] = {}
        self._failed = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> dict[str, Any]:
        """The runs training now, by run name (a Run, or a LaunchedRun with ``parallel`` > 1)."""
        with self._lock:
            return dict(self._running)

    @property
    def current(self) -> Any:
        """The run training now (with ``parallel`` > 1, the first started of those in :attr:`running`), or None."""
        return next(iter(self.running.values()), None)

    def start(self) -> Sweep:
        """Claim the folder and start training in the background (returns at once)."""
        claim(self.plan)
        self.state = "running"
        target = self._loop if self.parallel == 1 else self._loop_parallel
        self._thread = threading.Thread(target=target, name="genwidgets-sweep", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every run is handled (or ``timeout`` seconds); True when the sweep is done."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def stop(self, *, wait: bool = True) -> None:
        """Start no more runs, and stop those training now after their current step (a later start resumes them).

        Each writes a final checkpoint. With ``wait``, return once they have; a process that does not end in
        time is ended as :meth:`LaunchedRun.stop <genwidgets.LaunchedRun.stop>` does. A process still
        starting stops as soon as it is up; :meth:`wait` returns once every run has ended.
        """
        self._stop.set()
        runs = list(self.running.values())
        for run in runs:
            run.stop(wait=False)
        if wait:
            for run in runs:
                run.stop(wait=True)

    def _loop(self) -> None:
        for point, status in self.plan.status():
            if self._stop.is_set():
                break
            outcome = _outcome(point, status)
            if status.state != "finished":
                try:
                    run = start_point(self.plan, point, status, **self._run_options)
                    with self._lock:
                        self._running[point.name] = run
                    if self._on_run is not None:
                        self._on_run(run, point)
                    if self._stop.is_set():  # stopped while the run was being built
                        run.stop()
                    run.start()
                    with contextlib.suppress(Exception):  # a failed run is recorded below; the sweep goes on
                        run.wait()
                    outcome.update(state=run.state, step=run.step_count, error=run.error_message or None)
                except GenwidgetsError as exc:
                    outcome.update(state="failed", error=str(exc))
                finally:
                    with self._lock:
                        self._running.pop(point.name, None)
            self._record(outcome)
        self._end()

    def _loop_parallel(self) -> None:
        """Hand the runs to ``parallel`` slot threads, each training one process run at a time."""
        todo: queue.SimpleQueue[tuple[SweepPoint, PointStatus]] = queue.SimpleQueue()
        for point, status in self.plan.status():
            if status.state == "finished":
                self._record(_outcome(point, status))
            else:
                todo.put((point, status))
        slots = [threading.Thread(target=self._slot, args=(todo,), name=f"genwidgets-sweep-{i}", daemon=True)
                 for i in range(min(self.parallel, todo.qsize()))]
        for slot in slots:
            slot.start()
        for slot in slots:
            slot.join()
        self._end()

    def _slot(self, todo: queue.SimpleQueue[tuple[SweepPoint, PointStatus]]) -> None:
        while not self._stop.is_set():
            try:
                point, status = todo.get_nowait()
            except queue.Empty:
                return
            outcome = self._train_in_process(point, status)
            if outcome is not None:
                self._record(outcome)

    def _train_in_process(self, point: SweepPoint, status: PointStatus) -> dict[str, Any] | None:
        """Train ``point`` in its own process until it ends; its outcome (None: stopped before it started)."""
        outcome = _outcome(point, status)
        try:
            run = launch_point(self.plan, point, status, **self._run_options)
            if self._on_run is not None:
                self._on_run(run, point)
            if self._stop.is_set():
                return None
            run.start()  # returns once the process is up and connected
            with self._lock:  # registered and checked at once: stop() either sees the run or is seen here
                self._running[point.name] = run
                stopping = self._stop.is_set()
            if stopping:
                run.stop(wait=False)
            with contextlib.suppress(Exception):  # a failed run is recorded below; the sweep goes on
                run.wait()
            outcome.update(state=run.state, step=run.step_count, error=run.error_message or None)
        except Exception as exc:  # noqa: BLE001 - a run that cannot start is recorded; the others go on
            outcome.update(state="failed", error=str(exc))
        finally:
            with self._lock:
                self._running.pop(point.name, None)
        return outcome

    def _record(self, outcome: dict[str, Any]) -> None:
        if not self._stop.is_set():
            evaluate_outcome(outcome, self.evaluate, self.evaluate_n)
        with self._lock:
            self.outcomes.append(outcome)
            self._failed = self._failed or outcome["state"] == "failed"

    def _end(self) -> None:
        self.state = "stopped" if self._stop.is_set() else "failed" if self._failed else "finished"

    def __repr__(self) -> str:
        done = sum(o["state"] == "finished" for o in self.outcomes)
        at_once = f", {self.parallel} at once" if self.parallel > 1 else ""
        return (f"<Sweep {self.plan.model} on {self.plan.data}: {len(self.plan.points)} runs in {self.plan.out}"
                f"{at_once}, {done} finished, {self.state}>")


def check_evaluate(groups: Sequence[str] | None) -> list[str]:
    """The metric groups a sweep evaluates each finished run with (checked: every name must exist).

    Raises:
        ConfigError: an unknown group (the message lists the known ones).
    """
    if not groups:
        return []
    from .metrics.evaluate import GROUPS, plugin_metrics

    known = [*GROUPS, *plugin_metrics()]
    names = [groups] if isinstance(groups, str) else list(groups)
    unknown = [g for g in names if g not in known]
    if unknown:
        raise ConfigError(f"evaluate: unknown metric groups {unknown}; choose from {known}")
    return names


def evaluate_outcome(outcome: dict[str, Any], groups: Sequence[str], n: int | None = None) -> None:
    """Measure a finished run with ``groups`` and keep the result beside it (``evaluations/step-N.json``).

    Groups already kept for the run's newest checkpoint are not measured again (a restarted sweep only fills
    in what is missing). The outcome gains ``evaluation`` (``"group.name" -> value``) or ``evaluation_error``;
    a failed evaluation never fails the sweep.
    """
    if not groups or outcome.get("state") != "finished":
        return
    from .metrics.evaluate import evaluate
    from .runfolders.evaluations import load_evaluations, scalar_metrics

    kept = load_evaluations(outcome["dir"]).get(int(outcome["step"]), {})
    missing = [g for g in groups if g not in kept.get("metrics", {})]
    try:
        if missing:
            evaluate(outcome["dir"], metrics=missing, n=n, save=True)
            kept = load_evaluations(outcome["dir"]).get(int(outcome["step"]), {})
        outcome["evaluation"] = scalar_metrics(kept)
    except Exception as exc:  # noqa: BLE001 - one run's metric must not stop the sweep
        outcome["evaluation_error"] = f"{type(exc).__name__}: {exc}"


def _outcome(point: SweepPoint, status: PointStatus) -> dict[str, Any]:
    """A run's outcome entry as the sweep reaches it (updated once it has trained)."""
    return {"name": point.name, "dir": str(point.out), "was": status.state, "state": status.state,
            "step": status.step, "error": None}


def sweep(model: str, data: str = "mnist", *, vary: Mapping[str, Sequence[Any]], steps: int = 2000,
          out: str | os.PathLike, seeds: Iterable[int] = (0,), preset: str | None = None,
          config: Mapping[str, Any] | None = None, parallel: int = 1, evaluate: Sequence[str] | None = None,
          evaluate_n: int | None = None, start: bool = True, **run_options: Any) -> Sweep:
    """Train every combination of ``vary`` for each seed in the background: one after another, or ``parallel`` at once.

    Example::

        s = genwidgets.sweep("beta_vae", data="dsprites", vary={"beta": [1, 4, 8, 16]}, seeds=[0, 1],
                             steps=3000, out="runs/beta")
        s.wait()
        s.outcomes        # one entry per run: folder, state, step

        # four runs at a time, each in its own process on one CPU thread
        s = genwidgets.sweep("beta_vae", data="dsprites", vary={"beta": [1, 4, 8, 16]}, seeds=[0, 1],
                             steps=3000, out="runs/beta", parallel=4)

    Args:
        model: A registered family name.
        data: A registered data set name (each run reloads it by name, so the sweep can resume).
        vary: Config fields and the values to try; every combination is a run.
        steps: Steps of every run.
        out: The sweep's folder (new or empty, or one holding this same sweep, which then continues).
        seeds: Seeds; each combination runs once per seed.
        preset: Config preset of every run (e.g. ``"tiny"``).
        config: Config overrides shared by every run.
        parallel: Runs trained at once. 1 (the default): one after another in a background thread of this
            process. K > 1: up to K at a time, each in its own process (:func:`genwidgets.launch` with one
            process, so every family can) held to one CPU thread; K above the CPU cores this process may use
            is lowered to that count with a RuntimeWarning. Each run folder is what a run in the kernel
            writes; the processes' logs go to ``out/.workers/NAME/workers.log``. ``stop()`` stops every
            process after its step, each writing a final checkpoint.
        evaluate: Metric groups (``"disentanglement"``, ``"images"``, ``"likelihood"``, ``"modes"`` or a
            plugin's) each run is measured with once it finishes, in this process; the results are kept in
            the run's ``evaluations/`` folder (see :mod:`genwidgets.runfolders.evaluations`), where the runs board
            plots them against the varied fields, e.g. MIG against beta. A restart measures only what is missing.
        evaluate_n: Examples per metric group (default: each group's own, see :func:`genwidgets.metrics.evaluate`).
        start: Start at once (False: call ``.start()``).
        **run_options: ``log_every``, ``sample_every``, ``checkpoint_every``, ``device``, ... as for
            :func:`genwidgets.train` (with ``parallel`` > 1 they travel to the processes as JSON).

    Raises:
        ConfigError: an option or a combination is invalid, or ``out`` holds something else (see
            :func:`claim`); raised before anything is written.
    """
    plan = plan_sweep(model, data, vary=vary, steps=steps, out=out, seeds=seeds, preset=preset, config=config)
    result = Sweep(plan, parallel=cap_parallel(parallel, stacklevel=2), evaluate=evaluate, evaluate_n=evaluate_n,
                   **run_options)
    if start:
        result.start()
    return result


def _label(value: Any) -> str:
    """A value as it appears in a run folder's name (filesystem-safe)."""
    text = json.dumps(value) if not isinstance(value, str) else value
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in text)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


__all__ = ["MANIFEST", "WORKERS", "PointStatus", "Sweep", "SweepPlan", "SweepPoint", "cap_parallel",
           "check_evaluate", "check_process_options", "claim", "evaluate_outcome", "launch_point", "plan_sweep",
           "point_status", "start_point", "sweep", "usable_cores"]
