"""A training session in a background thread that the notebook can pause, steer and stop.

``Run`` steps a model on a data set in a daemon thread, so the kernel stays responsive. Between
steps it applies control requests (pause, resume, stop, live hyperparameter edits, save) and
publishes :class:`~genwidgets.runtime.events.Event` s to subscribers through an
:class:`~genwidgets.runtime.events.EventBus`, which never makes the loop wait.

Thread safety: one lock is held for the duration of each step, so ``save()`` and ``step()``
from the notebook thread always see the model between steps, never in the middle of one.
Global RNG state is per process; two runs training at once in one process share it, so only a
run that trains alone resumes bit-for-bit.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ..data.base import GenData
from ..device.host_allocator import tune_host_allocator
from ..errors import CheckpointError, ConfigError, NonFiniteLossError, RunError
from ..images import to_uint8
from . import checkpoint as ckpt
from . import distributed, run_card, run_checkpoint
from .events import Event, Subscription
from .handle import MAX_EDIT_LOG, RunBase, RunState
from .metric_sums import MetricSums
from .sampler import EpochSampler
from .schedule import HparamSchedule, ScheduleLike
from .shutdown import RUNS, close_at_exit

__all__ = ["MAX_EDIT_LOG", "Run", "RunState"]


def _third_party_plugin(model_name: str) -> str | None:
    """The plugin that registered ``model_name``, unless it ships with genwidgets (or is unregistered)."""
    from ..hookspecs import PROJECT
    from ..registry import get_registry

    registry = get_registry()
    try:
        plugin = registry.model_plugin(model_name)
    except Exception:  # noqa: BLE001 - a model built from a class that was never registered
        return None
    record = next((r for r in registry.list_plugins() if r.name == plugin), None)
    return None if record is not None and record.distribution == PROJECT else plugin


class Run(RunBase):
    """One training session of one model on one data set (a :class:`~genwidgets.runtime.handle.RunHandle`).

    Args:
        model: A :class:`~genwidgets.model.GenerativeModel` (already on its runtime's device).
        data: The training set.
        steps: Total steps to train (None: until stopped).
        out_dir: Where checkpoints go (``out_dir/checkpoints/step-XXXXXXXX``); None keeps
            everything in memory and ``save()`` then needs a path.
        log_every: Steps between metric events (metrics are read from the device only then).
        sample_every: Steps between sample-grid events (from the model's fixed noise).
        checkpoint_every: Steps between checkpoints (needs ``out_dir``); a final one is written
            when the run finishes or is stopped.
        keep_checkpoints: How many periodic checkpoints to keep (None keeps all).
        data_source: How to reload the data from a checkpoint: ``{"name": ..., "options": {...}}``
            for a registered data set.
        history_points: Bound on the metric history kept in memory (see MetricHistory).
        plugin_events: Forward events to plugins' ``on_train_event`` hooks (loggers).
        on_checkpoint_error: What a checkpoint that cannot be written (disk full, permission
            denied) does: ``"stop"`` fails the run with the error (default); ``"continue"``
            publishes a ``warning`` event and trains on. Either way the previous checkpoint stays
            whole (writes are atomic).
        schedule: Live hyperparameter edits planned by step, e.g. ``{45000: {"lr": 1e-4}}``: a
            learning-rate drop once 45,000 steps are trained (see
            :class:`~genwidgets.runtime.schedule.HparamSchedule`). Checked now; saved in
            checkpoints, so a resumed run keeps it.
    """

    def __init__(
        self,
        model: Any,
        data: GenData,
        *,
        steps: int | None = None,
        out_dir: str | os.PathLike | None = None,
        log_every: int = 10,
        sample_every: int = 100,
        checkpoint_every: int | None = 500,
        keep_checkpoints: int | None = 5,
        data_source: Mapping[str, Any] | None = None,
        history_points: int = 10_000,
        plugin_events: bool = True,
        on_checkpoint_error: Literal["stop", "continue"] = "stop",
        schedule: ScheduleLike | None = None,
    ) -> None:
        for label, value in (("log_every", log_every), ("sample_every", sample_every)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{label} must be an integer >= 1, got {value!r}")
        if steps is not None and (not isinstance(steps, int) or steps < 0):
            raise ConfigError(f"steps must be an integer >= 0 or None, got {steps!r}")
        if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 0):
            raise ConfigError(f"checkpoint_every must be an integer >= 0 (0 or None: only the final checkpoint), "
                              f"got {checkpoint_every!r}")
        if keep_checkpoints is not None and (not isinstance(keep_checkpoints, int) or keep_checkpoints < 1):
            raise ConfigError(f"keep_checkpoints must be an integer >= 1 or None (keep all), got {keep_checkpoints!r}")
        if on_checkpoint_error not in ("stop", "continue"):
            raise ConfigError(f"on_checkpoint_error must be 'stop' or 'continue', got {on_checkpoint_error!r}")
        self.on_checkpoint_error = on_checkpoint_error
        if data.spec != model.data_spec:
            raise ConfigError(f"the model was built for data {model.data_spec} but the data is {data.spec}")
        self.schedule = HparamSchedule(schedule)
        self.schedule.check(model.config)
        self.model = model
        self.data = data
        self.runtime = model.runtime
        self.steps = steps
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.log_every, self.sample_every = log_every, sample_every
        self.checkpoint_every, self.keep_checkpoints = checkpoint_every, keep_checkpoints
        self.data_source = dict(data_source or {"name": getattr(data, "name", "data"), "options": {}})
        self._state: RunState = "created"
        self._init_run_state(history_points=history_points)
        #: Where this process trains: alone, or as one rank of a torchrun job (see :mod:`.distributed`).
        self.group = distributed.process_group()
        self.group.check(model)
        plugin_events = plugin_events and self.group.is_main  # one logger, not one per rank
        self.sampler = EpochSampler(len(data), model.config.batch_size, seed=model.config.seed,
                                    rank=self.group.rank, world_size=self.group.world_size)
        #: The checkpoint this run continues (set by :func:`genwidgets.resume`); None for a new run.
        self.resumed_from: Path | None = None
        self._out_dir_claimed = False
        self.started_at: float | None = None

        self._step_lock = threading.RLock()
        # Threads waiting in between_steps(): the loop lets them in before its next step. A bare
        # lock is not fair: the loop would take it again microseconds after releasing it, and a
        # widget could wait for seconds (measured: up to 1.8 s on a 2-D GAN).
        self._handoff = threading.Condition()
        self._waiters = 0
        self._control = threading.Condition()
        self._pause_requested = False
        self._stop_requested = False
        self._pending_hparams: dict[str, Any] = {}
        self._next_scheduled = self.schedule.next_step  # one comparison a step; None when nothing is planned
        self._pause_at: int | None = None
        self._thread: threading.Thread | None = None
        # On the CPU reading a value costs no device sync: metrics are read, and checked for NaN, every step.
        on_host = self.runtime.device.type == "cpu"
        self._sums = MetricSums(on_host=on_host)
        self._interval_start = time.perf_counter()
        self._interval_steps = 0
        self._check_every = 1 if on_host else log_every
        self._plugin_sub: Subscription | None = None
        if plugin_events:
            self._connect_plugins()
        self.runtime.prepare_model(model)
        self.group.join(model, self.runtime.device)

    @property
    def dist(self) -> distributed.DistInfo | None:
        """Where this process sits in a torchrun job (rank, world size), or None in a single process."""
        return self.group.info

    # ---- state ----------------------------------------------------------------------------
    @property
    def state(self) -> RunState:
        """``created``, ``running``, ``paused``, ``stopped``, ``finished`` or ``failed``."""
        return self._state

    @property
    def is_alive(self) -> bool:
        """True while the background thread exists (running or paused)."""
        return self._thread is not None and self._thread.is_alive()

    def _set_state(self, new: RunState) -> None:
        old, self._state = self._state, new
        if old != new:
            if self.out_dir is not None and self._out_dir_claimed:
                run_card.write_card(self)  # the runs board's summary of this folder
            self._publish(Event("state", self.step_count, {"old": old, "new": new}))

    def _connect_plugins(self) -> None:
        from ..registry import get_registry

        registry = get_registry()
        if registry.has_event_hooks():
            from .plugin_events import PluginEventForwarder

            self._plugin_sub = self.events.subscribe(PluginEventForwarder(self, self._publish, registry),
                                                     max_queue=4096)

    # ---- control --------------------------------------------------------------------------
    def start(self) -> Run:
        """Start (or restart after a stop) training in a background thread; returns self."""
        with self._control:
            if self.is_alive:
                raise RunError("the run is already training; use pause()/resume() or stop() first")
            if self._state == "failed":
                raise RunError(f"the run failed and cannot restart: {self.error!r}") from self.error
            if self.steps is not None and self.step_count >= self.steps:
                raise RunError(f"the run already reached its {self.steps} steps; raise run.steps to train more")
            self._claim_out_dir()
            self._pause_requested = self._stop_requested = False
            if self.runtime.device.type == "cpu":
                tune_host_allocator()  # keep each step's freed buffers instead of faulting them in again
            self._thread = threading.Thread(target=self._loop, name="genwidgets-run", daemon=True)
            close_at_exit(self, lambda run: run.stop(wait=True, timeout=10.0), stage=RUNS)
            self._set_state("running")
            self._thread.start()
        return self

    def pause(self, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Pause after the current step; with ``wait``, return once the loop is paused."""
        with self._control:
            if not self.is_alive:
                return
            self._pause_requested = True
            self._control.notify_all()
            if wait:
                self._control.wait_for(lambda: self._state != "running" or not self.is_alive, timeout)

    def resume(self, steps: int | None = None) -> None:
        """Continue a paused run; with ``steps``, pause again after that many more steps."""
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise ConfigError(f"steps must be an integer >= 1 or None, got {steps!r}")
        with self._control:
            self._pause_at = None if steps is None else self.step_count + steps
            self._pause_requested = False
            self._control.notify_all()

    def stop(self, *, wait: bool = True, timeout: float | None = 60.0) -> None:
        """Stop after the current step (writing a final checkpoint if ``out_dir`` is set)."""
        with self._control:
            self._stop_requested = True
            self._pause_requested = False
            self._control.notify_all()
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> Run:
        """Block until the run ends; re-raise the run's error, if it failed.

        Ctrl-C while waiting (or the notebook's interrupt button) stops the run cleanly: it finishes
        its step and writes a final checkpoint when ``out_dir`` is set, then KeyboardInterrupt
        propagates. SIGTERM (a job scheduler, ``docker stop``) does the same, then raises
        ``SystemExit(143)``. Further signals while the checkpoint is written cannot interrupt it.
        """
        if self._thread is not None:
            self._wait_for_end(lambda: not self.is_alive, lambda: self.stop(wait=False), timeout)
        self._raise_if_failed()
        return self

    def _wait_a_little(self, seconds: float) -> None:
        if self._thread is not None:
            self._thread.join(seconds)

    def step(self, n: int = 1) -> dict[str, float]:
        """Train ``n`` steps now, in the calling thread (only while not running; paused is fine).

        Returns the last step's metrics as floats.
        """
        if self.is_alive and self._state == "running":
            raise RunError("the run is training in the background; pause() it before stepping by hand")
        if self.group.world_size > 1:
            raise RunError("under torchrun every process must step together; use resume(steps=n) instead")
        if self._state == "failed":
            raise RunError(f"the run failed: {self.error!r}") from self.error
        self._claim_out_dir()
        last: dict[str, float] = {}
        try:
            for _ in range(n):
                with self._step_lock:
                    self._apply_hparams()  # scheduled, then live edits, as the loop applies them
                    last = self._train_one(force_log=True)
        except Exception as exc:
            self._fail(exc)
            raise
        return last

    def set_hparams(self, **changes: Any) -> None:
        """Change live hyperparameters (learning rates, D:G step ratio, beta, ...) at the next step.

        Only fields the model's Config declares editable may change; the new values are
        validated now, so an out-of-range value raises ConfigError here, not in the loop.
        """
        with self._control:
            self._check_edits(changes, self._pending_hparams)
            self._pending_hparams.update(changes)
        if not self.is_alive and self.group.world_size == 1:  # under torchrun, the loop hands edits to every rank
            with self._step_lock:
                self._apply_hparams()

    # ---- the loop -------------------------------------------------------------------------
    def _loop(self) -> None:
        # torch's CPU thread count is per OS thread: a new thread would use the machine default.
        if self.runtime.num_threads:
            torch.set_num_threads(self.runtime.num_threads)
        self.started_at = self.started_at or time.time()
        self._interval_start, self._interval_steps = time.perf_counter(), 0
        try:
            while True:
                pause, stop = self._agreed_control()
                if pause and not stop:
                    with self._control:
                        self._set_state("paused")
                        self._control.notify_all()
                    stop = self._wait_while_paused()
                    self._interval_start, self._interval_steps = time.perf_counter(), 0
                    if not stop:
                        with self._control:
                            self._set_state("running")
                if stop:
                    break
                if self.steps is not None and self.step_count >= self.steps:
                    break
                self._let_waiters_in()
                with self._step_lock:
                    self._train_one()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an error event
            self._fail(exc)
            return
        try:
            self._flush_metrics()
            if self.out_dir is not None:
                self._save_as_configured()
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
            return
        finished = self.steps is not None and self.step_count >= self.steps
        with self._control:
            self._set_state("finished" if finished else "stopped")
            self._control.notify_all()

    def _agreed_control(self) -> tuple[bool, bool]:
        """(pause, stop) for this step boundary; under torchrun, rank 0's flags, the same on every rank.

        A finished ``resume(steps=n)`` becomes a pause request here, and pending live
        hyperparameter edits are applied here. Under torchrun they travel with the flags and are
        applied on every rank at the same step, so the replicas never diverge.
        """
        with self._control:
            if self._pause_at is not None and self.step_count >= self._pause_at:
                self._pause_at, self._pause_requested = None, True
            flags = [self._pause_requested, self._stop_requested]
            pending: dict[str, Any] = {}
            if self.group.is_main:  # other ranks receive rank 0's edits
                pending, self._pending_hparams = self._pending_hparams, {}
        agreed, pending = self.group.agree(flags, pending)
        if not self.group.is_main:
            with self._control:
                self._pause_requested, self._stop_requested = agreed
        if pending:
            with self._step_lock:
                self._apply_due_edits(pending)
        return agreed[0], agreed[1]

    def _wait_while_paused(self) -> bool:
        """Wait for resume or stop; return whether to stop.

        Under torchrun every rank waits in small broadcasts of rank 0's flags (rank 0 sends one
        at least every 0.25 s), so no rank sits in a collective long enough to time out.
        """
        while True:
            if self.group.pause_poll != 0:
                with self._control:
                    self._control.wait_for(lambda: not self._pause_requested or self._stop_requested,
                                           self.group.pause_poll)
            pause, stop = self._agreed_control()
            if stop or not pause:
                return stop

    def _train_one(self, *, force_log: bool = False) -> dict[str, float]:
        if self._next_scheduled is not None and self.step_count >= self._next_scheduled:
            self._apply_schedule()  # every rank holds the same schedule: no broadcast needed
        t0 = time.perf_counter()
        batch = self.data.get_batch(self.sampler.next_indices())
        batch = self.runtime.move_batch(batch)
        metrics = self.model.train_step(batch)
        self.step_count += 1
        self._interval_steps += 1
        self.train_seconds += time.perf_counter() - t0
        row = self._sums.add(metrics)
        if self.step_count % self._check_every == 0 and (row is None or not MetricSums.row_is_finite(row)):
            self._check_finite(metrics)  # names the bad values (or checks values that were not stacked)
        checkpoint_due = bool(self.out_dir is not None and self.checkpoint_every
                              and self.step_count % self.checkpoint_every == 0 and self.step_count != self.steps)
        last: dict[str, float] = {}
        # A flush checks the interval's means for NaN/inf: where steps are not checked one by one
        # (accelerators), a checkpoint step flushes too, so no checkpoint holds non-finite weights.
        if (force_log or self.step_count % self.log_every == 0 or self.step_count == self.steps
                or (checkpoint_due and self._check_every > 1)):
            last = self._flush_metrics()
        if self.step_count % self.sample_every == 0 or self.step_count == self.steps:
            self.publish_samples()
        if checkpoint_due:
            self._save_as_configured()
        return last

    def _save_as_configured(self) -> None:
        """Write a checkpoint; on failure stop the run or (``on_checkpoint_error="continue"``) warn and go on."""
        try:
            self.save()
        except (CheckpointError, OSError) as exc:
            if self.on_checkpoint_error != "continue":
                raise
            self._publish(Event("warning", self.step_count, {
                "message": f"checkpoint at step {self.step_count} not written, training goes on: {exc}"}))

    def _check_finite(self, metrics: Mapping[str, Any]) -> None:
        bad = []
        for key, value in metrics.items():
            v = value.detach().float() if isinstance(value, torch.Tensor) else torch.tensor(float(value))
            if not bool(torch.isfinite(v).all()):
                bad.append(f"{key}={float(v):g}")
        if bad:
            raise NonFiniteLossError(
                f"step {self.step_count} of {self.model.name!r} produced a non-finite value ({', '.join(bad)}); "
                "the run stopped instead of training on it. Lower the learning rate, check the data for "
                "extreme values, or resume from the last checkpoint"
            )

    def _flush_metrics(self) -> dict[str, float]:
        values = self._sums.means()  # the only host sync (resets the sums)
        if not values:
            return {}
        if any(not math.isfinite(v) for v in values.values()):
            self._check_finite(values)
        now = time.perf_counter()
        elapsed = now - self._interval_start
        if elapsed > 0 and self._interval_steps:
            self.steps_per_sec = self._interval_steps / elapsed
        self._interval_start, self._interval_steps = now, 0
        self._publish(Event("metrics", self.step_count, {"values": values, "steps_per_sec": self.steps_per_sec}))
        return values

    def _apply_hparams(self) -> None:
        """Apply pending live edits now (one process, between steps), after any scheduled ones due."""
        with self._control:
            pending, self._pending_hparams = self._pending_hparams, {}
        if pending:
            self._apply_due_edits(pending)

    def _apply_due_edits(self, live: Mapping[str, Any]) -> None:
        """Apply the scheduled edits due at this step, then the ``live`` ones (which win at the same step)."""
        if self._next_scheduled is not None and self.step_count >= self._next_scheduled:
            self._apply_schedule()
        self._apply_edits(live)

    def _apply_schedule(self) -> None:
        """Apply the scheduled edits due at this step count (before any live edit, which then wins)."""
        edits = self.schedule.due(self.step_count)
        self._next_scheduled = self.schedule.next_step
        if edits:
            self._apply_edits(edits)

    def _apply_edits(self, edits: Mapping[str, Any]) -> None:
        """Apply live hyperparameter edits to the model and announce them (between steps)."""
        self.model.apply_config(self.model.config.replace(**edits))
        self._publish(Event("hparams", self.step_count, dict(edits)))
        if self.out_dir is not None and self._out_dir_claimed:
            run_card.write_card(self)  # the card's edits give the runs board its edit marks

    def _fail(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, NonFiniteLossError) else f"{type(exc).__name__}: {exc}"
        plugin = _third_party_plugin(self.model.name)
        if plugin is not None:
            message += f" (model {self.model.name!r} of plugin {plugin!r})"
        self._publish(Event("error", self.step_count, {
            "message": message, "error": exc,
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))}))
        with self._control:
            self._set_state("failed")
            self._control.notify_all()

    # ---- samples --------------------------------------------------------------------------
    def publish_samples(self) -> Event:
        """Publish (and return) a ``samples`` event from the model's fixed noise, now."""
        with self._step_lock:
            out = self.model.preview()
            _, labels = self.model.fixed_noise()
        data: dict[str, Any] = {"labels": None if labels is None else labels.cpu().numpy()}
        if self.model.data_spec.kind == "images":
            data["images"] = to_uint8(out)
        else:
            data["points"] = out.float().cpu().numpy().astype(np.float32)
        return self._publish(Event("samples", self.step_count, data))

    # ---- checkpoints ----------------------------------------------------------------------
    def checkpoint_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Everything needed to resume exactly: (tensors, json); see :mod:`.run_checkpoint`."""
        return run_checkpoint.assemble(self)

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write a checkpoint now (between steps) and return its directory.

        ``path`` defaults to ``out_dir/checkpoints/step-XXXXXXXX``. The write is atomic: on
        failure a :class:`~genwidgets.errors.CheckpointError` is raised and earlier
        checkpoints are untouched.
        """
        if path is None and self.out_dir is None:
            raise RunError("this run has no out_dir; pass a path: run.save('my-checkpoint')")
        if not self.group.is_main:
            return None  # type: ignore[return-value]  # rank 0 writes the (identical) state
        if path is None:
            self._claim_out_dir()
        else:
            ckpt.check_checkpoint_target(path)  # before the state is assembled: refuse early, write nothing
        with self._step_lock:
            target = Path(path) if path is not None else (
                self.out_dir / "checkpoints" / ckpt.checkpoint_name(self.step_count))  # type: ignore[operator]
            tensors, state = self.checkpoint_state()
            written = ckpt.write_checkpoint(target, tensors, state)
        self._publish(Event("checkpoint", self.step_count, {"path": str(written)}))
        if path is None:
            self._prune_checkpoints()
        return written

    def _prune_checkpoints(self) -> None:
        """Keep the newest ``keep_checkpoints`` checkpoints of this run (its folder holds no other run's)."""
        if self.keep_checkpoints is None or self.out_dir is None:
            return
        for old in ckpt.list_checkpoints(self.out_dir)[: -self.keep_checkpoints]:
            with contextlib.suppress(OSError):
                ckpt.remove_checkpoint(old)

    def _claim_out_dir(self) -> None:
        """Make sure ``out_dir`` holds no other run's checkpoints or metrics before this run writes there.

        Pruning keeps the newest checkpoints of a folder, so a run writing beside another run's
        later checkpoints would lose its own (and ``load_model`` would load the other run's).
        A new run needs a folder without checkpoints or ``metrics.csv``; a resumed run may write
        into the folder of the checkpoint it continues when that checkpoint is the folder's
        newest. Stale temporaries of crashed writers are cleaned here. Checked once per run.

        Raises:
            RunError: the folder is another run's; the message says how to resume it or where to write.
        """
        if self._out_dir_claimed or self.out_dir is None or not self.group.is_main:
            return
        folder = self.out_dir / "checkpoints"
        ckpt.clean_stale_temporaries(folder)
        found = ckpt.list_checkpoints(folder)
        own = self.resumed_from is not None and bool(found) and _same_path(found[-1], self.resumed_from)
        if found and not own:
            steps = f"steps {_step_of(found[0])}-{_step_of(found[-1])}" if len(found) > 1 else \
                f"step {_step_of(found[0])}"
            if self.resumed_from is not None and any(_same_path(p, self.resumed_from) for p in found):
                raise RunError(
                    f"{self.out_dir} also holds checkpoints after the one this run resumes from "
                    f"({self.resumed_from.name}; the folder has {steps}); writing there would mix two histories. "
                    f"Branch into a new folder: --out NEW_DIR (Python: out='NEW_DIR'), or resume the newest one")
            raise RunError(
                f"{self.out_dir} already holds another run's checkpoints ({steps}); a new run there would mix with "
                f"them and pruning could delete its own. Continue that run with --resume {self.out_dir} "
                f"(Python: genwidgets.resume('{self.out_dir}')), or choose a new --out folder (Python: out=)")
        if not found and (self.out_dir / "metrics.csv").exists() and self.resumed_from is None:
            raise RunError(
                f"{self.out_dir} already holds another run's metrics.csv; a new run there would append to it. "
                "Choose a new --out folder (Python: out=), or move the old run away")
        self._out_dir_claimed = True

    def load_state(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        """Restore model, optimizers, counters, data order and RNG from a checkpoint."""
        with self._step_lock:
            run_checkpoint.restore(self, tensors, state)
            self._next_scheduled = self.schedule.next_step

    @contextlib.contextmanager
    def between_steps(self) -> Iterator[None]:
        """Hold the run between two steps for the block (for widgets that read or call the model).

        Training waits at the next step boundary until the block ends, so keep it short. Waiters
        are let in at the next step boundary (the loop does not take the next step first).
        """
        with self._handoff:
            self._waiters += 1
        try:
            self._step_lock.acquire()
        finally:
            with self._handoff:
                self._waiters -= 1
                self._handoff.notify_all()
        try:
            yield
        finally:
            self._step_lock.release()

    def _let_waiters_in(self, timeout: float = 1.0) -> None:
        """Before a step: wait (briefly) until threads waiting in between_steps() hold the step lock."""
        with self._handoff:
            if self._waiters:
                self._handoff.wait_for(lambda: self._waiters == 0, timeout)


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _step_of(checkpoint: Path) -> int:
    return int(checkpoint.name.split("-", 1)[1])
