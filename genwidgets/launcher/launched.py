"""Training in torchrun worker processes, driven and watched from the notebook kernel.

``genwidgets.launch("dcgan", data="mnist", processes=2)`` starts torchrun
(``--nproc_per_node=2 -m genwidgets.launcher.worker``, every socket on 127.0.0.1: see
:func:`torchrun_command`) outside the kernel and returns a :class:`LaunchedRun`. Rank 0 connects back over a local,
token-checked channel (:mod:`.channel`) and streams its events; the LaunchedRun republishes them
on its own event bus and keeps the same attributes a :class:`~genwidgets.runtime.run.Run` has
(state, step_count, history, latest samples, ...), so the training panel, the latent explorer,
the discriminator heatmap and loggers attach to it unchanged.

The kernel holds a CPU *mirror* of the model: rank 0 sends its weights (safetensors bytes)
before every sample grid and whenever training pauses or ends, and the explorer and heatmap
read the mirror. Commands (pause, resume, stop, save, live hyperparameter edits) go to rank 0,
whose Run hands them to every rank at the same step boundary. ``stop()`` ends every worker:
first by asking (a final checkpoint is written when ``out`` is set), then by signalling
torchrun's process group if they do not finish in time. When the kernel dies, rank 0 sees the
channel close and stops the workers itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, RunError
from ..runtime import channel
from ..runtime import checkpoint as ckpt
from ..runtime.events import Event
from ..runtime.handle import ENDED_STATES, RunBase
from ..runtime.history import MetricHistory
from ..runtime.schedule import HparamSchedule, edit_log_from_state
from ..runtime.shutdown import RUNS, close_at_exit

_ENDED = ENDED_STATES
_LOOPBACK = "127.0.0.1"
_TORCHRUN = "from genwidgets.launcher.launched import torchrun_on_loopback; torchrun_on_loopback()"


def torchrun_command(processes: int, target: Sequence[str]) -> list[str]:
    """The command that starts ``processes`` torchrun workers running ``target`` on this machine, loopback only.

    ``target`` is what follows torchrun's options: ``["-m", module, *args]`` or ``[script, *args]``.
    Not ``--standalone``: torch binds a TCP store server to every interface (``::``) whatever
    address it is given, and torchrun's stores take no authentication. The command runs torchrun
    through :func:`torchrun_on_loopback` instead, with a c10d rendezvous on 127.0.0.1 and the
    workers told to meet there (``--local-addr``); see :func:`loopback_env` for their gloo sockets.
    """
    return [sys.executable, "-c", _TORCHRUN, "--nnodes=1", "--rdzv-backend=c10d",
            f"--rdzv-endpoint={_LOOPBACK}:0", f"--rdzv-id={uuid.uuid4().hex}", f"--local-addr={_LOOPBACK}",
            f"--nproc_per_node={processes}", *target]


def loopback_env() -> dict[str, str]:
    """Environment for the workers: gloo's sockets on the loopback interface (unless GLOO_SOCKET_IFNAME is set)."""
    if "GLOO_SOCKET_IFNAME" in os.environ:
        return {}
    try:
        names = {name for _, name in socket.if_nameindex()}
    except (AttributeError, OSError):
        return {}
    return next(({"GLOO_SOCKET_IFNAME": name} for name in ("lo", "lo0") if name in names), {})


def thread_env(threads: int | None) -> dict[str, str]:
    """Environment that holds each worker to ``threads`` CPU threads (empty for None: the workers' defaults).

    ``OMP_NUM_THREADS`` sizes the OpenMP pool before torch starts, and ``GENWIDGETS_NUM_THREADS`` is what
    the worker's :meth:`Runtime.create <genwidgets.device.Runtime.create>` passes to ``torch.set_num_threads``.
    """
    if threads is None:
        return {}
    from ..device.runtime import THREADS_ENV

    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), THREADS_ENV: str(threads)}


def torchrun_on_loopback() -> None:
    """Run torchrun with the arguments in ``sys.argv``; every TCP store it hosts listens on 127.0.0.1 only.

    torchrun creates its stores (rendezvous, and the one the workers share) through
    ``TCPStore(..., is_master=True)``, which listens on all interfaces. Here each such store gets
    a listening socket already bound to 127.0.0.1 (``master_listen_fd``, a public TCPStore
    argument); the stores are otherwise torch's own.
    """
    import torch
    import torch.distributed as dist
    from torch.distributed import run
    from torch.distributed.elastic.rendezvous import (  # noqa: F401 - imported so their TCPStore is replaced
        c10d_rendezvous_backend,
        dynamic_rendezvous,
        static_tcp_rendezvous,
    )

    base = dist.TCPStore
    # libuv stores take over a listening socket from torch 2.8 on; older ones need the classic backend for it.
    classic = tuple(int(part) for part in torch.__version__.split(".")[:2]) < (2, 8)

    class LoopbackTCPStore(base):  # type: ignore[misc, valid-type]
        def __init__(self, host_name: str, port: int, world_size: int | None = None, is_master: bool = False,
                     *args: Any, master_listen_fd: int | None = None, **kwargs: Any) -> None:
            if is_master and master_listen_fd is None:
                listening = socket.create_server((_LOOPBACK, port))
                port, master_listen_fd = listening.getsockname()[1], listening.detach()
                if classic:
                    kwargs["use_libuv"] = False
            super().__init__(host_name, port, world_size, is_master, *args, master_listen_fd=master_listen_fd,
                             **kwargs)

    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", {})
        if getattr(module, "__name__", "").startswith("torch.distributed") and names.get("TCPStore") is base:
            module.TCPStore = LoopbackTCPStore
    run.main()


@dataclasses.dataclass(frozen=True)
class WorkerRuntime:
    """What rank 0 reported about the workers' runtime (device, precision, ...), plus the world size."""

    info: Mapping[str, Any]
    world_size: int

    def describe(self) -> dict[str, Any]:
        """Like :meth:`Runtime.describe`, with ``processes`` (the torchrun world size)."""
        return {**self.info, "processes": self.world_size}


class LaunchedRun(RunBase):
    """A run whose training happens in torchrun worker processes; see the module docstring.

    A :class:`~genwidgets.runtime.handle.RunHandle`, like a Run.

    Build one with :func:`launch`. Attributes mirror :class:`~genwidgets.runtime.run.Run`:
    ``model`` is the kernel's CPU mirror (refreshed from rank 0), ``data`` the data as loaded in
    the kernel, ``pids`` the workers' process ids (every rank), ``log_path`` the workers' output.
    """

    def __init__(self, spec: Mapping[str, Any], *, model: Any, data: Any, processes: int,
                 work_dir: Path, connect_timeout: float = 180.0, exit_grace: float = 60.0,
                 threads: int | None = None) -> None:
        self.spec = dict(spec)
        self.model = model
        self.data = data
        self.processes = processes
        #: CPU threads of each worker (None: their defaults); see :func:`thread_env`.
        self.threads = threads
        self.steps: int | None = spec.get("steps")
        options = spec.get("run_options", {})
        self.log_every = int(options.get("log_every", 10))
        self.sample_every = int(options.get("sample_every", 100))
        self.out_dir = Path(spec["out"]) if spec.get("out") else None
        self.data_source = dict(spec.get("data_source") or {"name": "data", "options": {}})
        self.work_dir = work_dir
        self.log_path = work_dir / "workers.log"
        self.connect_timeout = connect_timeout
        #: Seconds the workers get to exit after rank 0 reports that the run ended; then the
        #: kernel dumps their stacks into the log and ends them (the run keeps its reported state).
        self.exit_grace = exit_grace
        self._ended_by_kernel = False
        self._state = "created"
        self._init_run_state(history_points=int(options.get("history_points", 10_000)))
        #: The planned edits (as given to :func:`launch`); rank 0's applied ones arrive in ``edit_log``.
        self.schedule = HparamSchedule(options.get("schedule"))
        self.weights_step = -1
        self._weights_seen = 0
        self._pauses_seen = 0
        self.pids: list[int] = []
        self.runtime = WorkerRuntime({"device": "pending"}, processes)
        self._cond = threading.Condition()
        self._mirror_lock = threading.RLock()
        self._process: subprocess.Popen[bytes] | None = None
        self._listener: channel.Listener | None = None
        self._conn: channel.Connection | None = None
        self._returncode: int | None = None

    # ---- state ----------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``created``, ``running``, ``paused``, ``stopped``, ``finished`` or ``failed``."""
        return self._state

    @property
    def is_alive(self) -> bool:
        """True while the worker processes run."""
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status of torchrun once the workers have ended (None before)."""
        return self._returncode

    @contextlib.contextmanager
    def between_steps(self) -> Iterator[None]:
        """Hold the kernel's mirror still for the block (weights arriving from rank 0 wait)."""
        with self._mirror_lock:
            yield

    # ---- control --------------------------------------------------------------------------
    def start(self) -> LaunchedRun:
        """Start the worker processes and wait until rank 0 has connected; returns self."""
        if self._process is not None:
            raise RunError("a launched run starts once; to train on, launch again from its checkpoint: "
                           "genwidgets.launch(resume=run.last_checkpoint, ...)")
        self._listener = channel.Listener()
        spec_path = self.work_dir / "spec.json"
        spec_path.write_text(json.dumps(self.spec, indent=1))
        command = torchrun_command(self.processes, ["-m", "genwidgets.launcher.worker", str(spec_path)])
        env = {**os.environ, **loopback_env(), **thread_env(self.threads), **self._listener.env(),
               "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                             cwd=os.getcwd(), start_new_session=True)
        close_at_exit(self, lambda run: run.stop(wait=True, timeout=20.0), stage=RUNS)
        threading.Thread(target=self._accept, name="genwidgets-launch-accept", daemon=True).start()
        threading.Thread(target=self._watch, name="genwidgets-launch-watch", daemon=True).start()
        with self._cond:
            self._cond.wait_for(lambda: self._conn is not None or self._returncode is not None,
                                self.connect_timeout)
        if self._conn is None:
            if self._returncode is None:
                self.stop(wait=True, timeout=10.0)
                raise RunError(f"the workers did not connect within {self.connect_timeout:.0f} s; "
                               f"see {self.log_path}")
            raise RunError(self.error_message or f"the workers exited with status {self._returncode}")
        return self

    def pause(self, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Pause every worker after its current step; with ``wait``, return once rank 0 says paused."""
        if not self.is_alive:
            return
        self._send("pause")
        if wait:
            self._wait_state(lambda s: s != "running", timeout)

    def resume(self, steps: int | None = None) -> None:
        """Continue; with ``steps``, pause again after that many more steps."""
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise ConfigError(f"steps must be an integer >= 1 or None, got {steps!r}")
        self._send("resume", steps=steps)

    def step(self, n: int = 1, *, timeout: float = 120.0) -> dict[str, float]:
        """Train ``n`` steps on every worker, then pause again (only while paused); returns the latest metrics."""
        if self._state != "paused":
            raise RunError(f"the run is {self._state}; pause() it before stepping by hand")
        target, pauses = self.step_count + n, self._pauses_seen
        self.resume(steps=n)
        self._wait_state(lambda s: s in _ENDED or (self._pauses_seen > pauses and self.step_count >= target),
                         timeout)
        return dict(self.latest_metrics)

    def stop(self, *, wait: bool = True, timeout: float | None = 60.0) -> None:
        """Stop every worker (after the current step, final checkpoint if ``out`` is set).

        Workers that have not exited after ``timeout`` seconds are terminated (SIGTERM to
        torchrun's process group, then SIGKILL).
        """
        if self._process is None:
            return
        if self._conn is not None and self.is_alive:
            with contextlib.suppress(channel.ChannelClosed):
                self._conn.send({"type": "command", "op": "stop"})
        elif self.is_alive:
            self._signal(signal.SIGTERM)
        if wait and self._process is not None:
            self._end_processes(timeout)

    def _end_processes(self, timeout: float | None) -> None:
        assert self._process is not None
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in self.pids:  # every thread's stack into the log, to say where they hung
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGUSR1)
            time.sleep(1.0)
            self._signal(signal.SIGTERM)
            try:
                self._process.wait(15.0)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._process.wait(15.0)
        with self._cond:
            self._cond.wait_for(lambda: self._returncode is not None, 10.0)

    def _signal(self, sig: int) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, sig)
            if sig == signal.SIGTERM:  # a stopped (SIGSTOP) process handles TERM only once continued
                os.killpg(self._process.pid, signal.SIGCONT)
        for pid in self.pids:  # workers that left torchrun's process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def wait(self, timeout: float | None = None) -> LaunchedRun:
        """Block until the workers exit; raise the run's error if it failed.

        Ctrl-C (the notebook's interrupt) or SIGTERM while waiting stops every worker cleanly (a final
        checkpoint when ``out`` is set), then KeyboardInterrupt (or ``SystemExit(143)``) propagates.
        """
        if self._process is None:
            return self
        self._wait_for_end(lambda: self._returncode is not None, lambda: self.stop(wait=False), timeout)
        self._raise_if_failed()
        return self

    def _wait_a_little(self, seconds: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._returncode is not None, seconds)

    def set_hparams(self, **changes: Any) -> None:
        """Change live hyperparameters on every worker at its next step (validated here first)."""
        self._check_edits(changes, {})  # rank 0 applies edits in order: each is checked on its own
        self._send("set_hparams", values=changes)

    def save(self, path: str | os.PathLike | None = None, *, timeout: float = 120.0) -> Path:
        """Ask rank 0 for a checkpoint now; return its directory once written."""
        if path is None and self.out_dir is None:
            raise RunError("this run has no out directory; pass a path: run.save('my-checkpoint')")
        target = None if path is None else str(ckpt.check_checkpoint_target(Path(path).resolve()))
        before = self.last_checkpoint
        self._send("save", path=target)
        with self._cond:
            done = self._cond.wait_for(lambda: self.last_checkpoint != before or self._returncode is not None,
                                       timeout)
        if not done or self.last_checkpoint == before:
            raise RunError(f"no checkpoint arrived within {timeout:.0f} s" + self._log_hint())
        assert self.last_checkpoint is not None
        return self.last_checkpoint

    def refresh_weights(self, timeout: float = 30.0) -> int:
        """Fetch rank 0's current weights into the mirror now; returns their step."""
        before = self.weights_step
        seen = self._weights_seen
        self._send("weights")
        with self._cond:
            self._cond.wait_for(lambda: self._weights_seen > seen, timeout)
        return self.weights_step if self._weights_seen > seen else before

    def _send(self, op: str, **fields: Any) -> None:
        if self._conn is None or not self.is_alive:
            raise RunError(f"the workers are not running (state {self._state}); nothing to {op}")
        try:
            self._conn.send({"type": "command", "op": op, **fields})
        except channel.ChannelClosed as exc:
            raise RunError(f"the workers' channel closed: {exc}{self._log_hint()}") from exc

    def _wait_state(self, done: Callable[[str], bool], timeout: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: done(self._state) or self._returncode is not None, timeout):
                raise RunError(f"the workers did not answer within {timeout:.0f} s (state {self._state})"
                               + self._log_hint())

    def _log_hint(self) -> str:
        return f"; worker output: {self.log_path}"

    # ---- threads --------------------------------------------------------------------------
    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, hello = self._listener.accept(timeout=self.connect_timeout)
        except OSError:
            return  # the workers ended before connecting (the watcher reports it)
        finally:
            self._listener.close()
        self.pids = [int(p) for p in hello.header.get("pids", [])]
        self.runtime = WorkerRuntime(dict(hello.header.get("runtime", {})), int(hello.header.get("world_size", 1)))
        self.step_count = max(self.step_count, int(hello.header.get("step", 0)))
        with self._cond:
            self._conn = conn
            self._cond.notify_all()
        while True:
            try:
                message = conn.receive()
            except channel.FrameError as exc:  # the channel is closed: the workers stop, as when the kernel goes
                self._publish(Event("warning", self.step_count, {
                    "message": f"closed the workers' channel, they sent a frame that could not be read: {exc}"}))
                return
            except channel.ChannelClosed:
                return
            try:
                self._on_message(message)
            except Exception as exc:  # noqa: BLE001 - one bad message must not end the stream
                self._publish(Event("warning", self.step_count, {
                    "message": f"a message from the workers could not be read: {type(exc).__name__}: {exc}"}))

    def _on_message(self, message: channel.Message) -> None:
        header = message.header
        if message.type == "weights":
            self._load_weights(bytes(message.arrays["safetensors"]), int(header["step"]))
            return
        if message.type != "event":
            return
        data = {**header.get("data", {}), **message.arrays}
        event = Event(header["kind"], int(header["step"]), data, time=float(header.get("time", time.time())))
        self.train_seconds = float(header.get("train_seconds", self.train_seconds))
        self.step_count = max(self.step_count, event.step)
        if event.kind == "hparams":
            with self._mirror_lock:
                self.model.apply_config(self.model.config.replace(**data))
            self.schedule.due(event.step)  # what rank 0 has applied is no longer planned
        elif event.kind == "error":
            data["error"] = RunError(str(data.get("message", "the workers failed")))
        with self._cond:
            if event.kind == "state":
                self._state = str(data["new"])
                self._pauses_seen += self._state == "paused"
            self._cond.notify_all()
        if event.kind == "state" and self._state in _ENDED:
            timer = threading.Timer(self.exit_grace, self._end_lingering_workers)
            timer.daemon = True
            timer.start()
        self._publish(event)

    def _load_weights(self, blob: bytes, step: int) -> None:
        from safetensors.torch import load

        state = load(blob)
        with self._mirror_lock:
            self.model.load_state_dict(state)
            self.weights_step = step
        with self._cond:
            self._weights_seen += 1
            self._cond.notify_all()

    def _end_lingering_workers(self) -> None:
        """Rank 0 said the run ended, but the processes are still there after the grace period: end them."""
        if self._returncode is not None or not self.is_alive:
            return
        self._ended_by_kernel = True
        self._publish(Event("warning", self.step_count, {
            "message": f"the run {self._state} but its worker processes had not exited {self.exit_grace:g} s later; "
                       f"ending them (their stacks are in {self.log_path})"}))
        self._end_processes(0)

    def _watch(self) -> None:
        assert self._process is not None
        code = self._process.wait()
        if self._listener is not None:
            self._listener.close()
        # Let the reader drain what rank 0 sent before it exited.
        deadline = time.monotonic() + 5.0
        while self._conn is not None and not self._conn.closed and time.monotonic() < deadline:
            time.sleep(0.05)
        old = self._state
        with self._cond:
            if code != 0 and self._ended_by_kernel and self._state in ("finished", "stopped"):
                pass  # the run ended as reported; only its processes had to be ended
            elif code != 0:
                exited = f"the worker processes exited with status {code}: {self._log_tail()}"
                self.error_message = f"{self.error_message}; {exited}" if self.error_message else exited
                self.error = RunError(self.error_message)
                self._state = "failed"
            elif self._state not in _ENDED:
                finished = self.steps is not None and self.step_count >= self.steps
                self._state = "finished" if finished else "stopped"
            self._returncode = code
            self._cond.notify_all()
        if self._state != old:
            if self._state == "failed":
                self._publish(Event("error", self.step_count, {"message": self.error_message,
                                                                      "error": self.error, "traceback": ""}))
            self._publish(Event("state", self.step_count, {"old": old, "new": self._state}))

    def _log_tail(self, lines: int = 6) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return f"see {self.log_path}"
        picked = [line for line in text if line.strip()][-lines:]
        return " | ".join(picked) + f" (full output: {self.log_path})"

    def _describe(self) -> str:
        return f" x{self.processes} processes"


def launch(
    model: str | None = None,
    data: Any = None,
    *,
    resume: str | os.PathLike | None = None,
    processes: int = 2,
    steps: int | None = 2000,
    config: Mapping[str, Any] | None = None,
    preset: str | None = None,
    out: str | os.PathLike | None = None,
    device: str | None = None,
    precision: str = "auto",
    labels: Any = None,
    data_options: Mapping[str, Any] | None = None,
    start: bool = True,
    connect_timeout: float = 180.0,
    exit_grace: float = 60.0,
    threads: int | None = None,
    work_dir: str | os.PathLike | None = None,
    **run_options: Any,
) -> LaunchedRun:
    """Train ``model`` with DistributedDataParallel in ``processes`` torchrun workers outside the kernel.

    Example::

        run = genwidgets.launch("dcgan", data="mnist", processes=2, steps=2000, out="runs/ddp")
        run                          # the live training panel; pause/stop act on every worker
        genwidgets.studio(run)       # panel, latent explorer and heatmap on the kernel's mirror

    Args:
        model: A registered family name (every worker builds it from the registry); optional
            with ``resume``.
        data: A registered data set name, an image folder path, or an array/tensor (written
            once to the run's work directory for the workers); default: the checkpoint's data
            set with ``resume``, else ``"mnist"``.
        resume: A checkpoint (or run directory) to continue from exactly: weights, optimizers,
            data order and RNG go to every worker; ``steps`` is then the new total.
        processes: Worker processes (``--nproc_per_node``); on CUDA one per GPU. With 1 the run trains
            in one process without DDP, so every family can (``genwidgets.sweep(parallel=K)`` does this).
        steps: Steps to train (None: until ``run.stop()``).
        config: Config overrides; ``config["batch_size"]`` is the global batch over all workers.
        preset: Config preset to start from, e.g. ``"tiny"``.
        out: Run directory (checkpoints, the workers' log); None uses a temporary directory.
        device: The workers' device; None: ``cuda:LOCAL_RANK`` when CUDA exists, else the CPU.
        precision: As for :func:`genwidgets.train`.
        labels: Labels for array or tensor data.
        data_options: Options for a registered data set's loader.
        start: Start the workers now (False: call ``run.start()``).
        connect_timeout: Seconds to wait for rank 0 to connect back.
        exit_grace: Seconds the worker processes get to exit once rank 0 reports the run ended;
            after that the kernel ends them (a stack dump goes to the log first).
        threads: CPU threads of each worker (``OMP_NUM_THREADS`` and ``torch.set_num_threads`` in
            it, see :func:`thread_env`); None: their defaults.
        work_dir: Folder for the workers' spec and log (``workers.log``); default ``out``, or a
            temporary folder without ``out``. The run's own files (checkpoints, metrics) go to ``out``.
        **run_options: ``log_every``, ``sample_every``, ``checkpoint_every``, ``schedule`` (planned
            live edits, applied by every worker at the same step), ... (see Run).
    """
    from ..api import build_model, load_data
    from ..device import Runtime
    from ..runtime import distributed

    checkpoint_tensors: dict[str, Any] = {}
    state: dict[str, Any] = {}
    if resume is not None:
        from ..runtime.checkpoint import read_checkpoint, resolve_checkpoint

        resume = resolve_checkpoint(resume).resolve()
        checkpoint_tensors, state = read_checkpoint(resume)
        if model is not None and model != state["model"]:
            raise ConfigError(f"{resume} holds a {state['model']!r} model, not {model!r}; leave model out to resume")
        model, config, preset = state["model"], state["config"], None
        if data is None:
            data, data_options = state["data"]["name"], state["data"].get("options") or data_options
    if data is None:
        data = "mnist"
    if not isinstance(model, str):
        raise ConfigError("launch() needs a registered model name (the workers build the model from it), "
                          f"got {type(model).__name__}; for a model object use genwidgets.train")
    if not isinstance(processes, int) or processes < 1:
        raise ConfigError(f"processes must be an integer >= 1, got {processes!r}")
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ConfigError(f"threads must be an integer >= 1 or None, got {threads!r}")
    dataset = load_data(data, labels=labels, **dict(data_options or {}))
    mirror = build_model(model, config=config, preset=preset, data_spec=dataset.spec,
                         runtime=Runtime.create(device="cpu"))
    if checkpoint_tensors:
        mirror.load_state_dict({k[len("model."):]: v for k, v in checkpoint_tensors.items() if k.startswith("model.")})
    if processes > 1:  # one process trains without DDP, so every family can
        distributed.check_supported(mirror)  # refuse here, not after the workers start
    if mirror.config.batch_size % processes:
        raise ConfigError(f"batch_size {mirror.config.batch_size} (the global batch) must divide evenly over "
                          f"{processes} processes; choose processes or config={{'batch_size': ...}} to fit")
    if run_options.get("schedule"):  # checked here, and sent as JSON-ready [[step, edits], ...]
        schedule = HparamSchedule(run_options["schedule"])
        schedule.check(mirror.config)
        run_options["schedule"] = schedule.to_state()
    chosen = work_dir if work_dir is not None else out
    folder = Path(chosen) if chosen is not None else Path(tempfile.mkdtemp(prefix="genwidgets-launch-"))
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, (str, os.PathLike)):
        data_arg: Any = os.fspath(data)
        source = {"name": dataset.name, "options": dict(data_options or {})}
    elif getattr(dataset, "source", None):  # a train/test part of a registered set: cut again in each worker
        data_arg = source = dict(dataset.source)
    else:
        if not hasattr(dataset, "x"):
            raise ConfigError(f"launch() passes data to its workers as a name, a folder path, an array or a "
                              f"tensor; got {type(data).__name__}. Save it as an array (or image folder) first")
        arrays = {"x": dataset.x.cpu().numpy()}
        if getattr(dataset, "labels", None) is not None:
            arrays["labels"] = dataset.labels.cpu().numpy()
        npz = folder / "launch-data.npz"
        np.savez(npz, **arrays)
        data_arg, source = {"npz": str(npz.resolve())}, {"name": "data", "options": {}}
    spec = {"model": model, "data": data_arg, "steps": steps, "config": dict(config or {}), "preset": preset,
            "out": None if out is None else str(Path(out).resolve()), "device": device, "precision": precision,
            "data_options": dict(data_options or {}), "run_options": dict(run_options), "data_source": source,
            "resume": None if resume is None else str(resume)}
    run = LaunchedRun(spec, model=mirror, data=dataset, processes=processes, work_dir=folder,
                      connect_timeout=connect_timeout, exit_grace=exit_grace, threads=threads)
    if state:
        run.step_count = int(state["step"])
        if "history" in state:
            run.history = MetricHistory.from_state(state["history"])
        if not run_options.get("schedule"):  # the workers carry on with the checkpoint's plan
            run.schedule = HparamSchedule(state["run"].get("schedule"))
        run.schedule.start_at(run.step_count)
        run.edit_log = edit_log_from_state(state["run"])
    if start:
        run.start()
    return run
