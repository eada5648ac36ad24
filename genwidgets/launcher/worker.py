"""The program ``torchrun`` starts for a notebook-launched run (:func:`genwidgets.launch`).

    python -m torch.distributed.run --standalone --nproc_per_node=N -m genwidgets.launcher.worker SPEC.json

Every rank builds the same :class:`~genwidgets.runtime.run.Run` from the JSON spec (DDP is set up
by the Run itself, see :mod:`.distributed`). Rank 0 connects back to the kernel over the local
channel (:mod:`.channel`), forwards its run's events and a weight snapshot before each sample
grid, and turns the kernel's commands (pause, resume, stop, save, live edits) into calls on its
Run, which hands them to every rank at the next step boundary. When the kernel goes away, the
workers stop (writing a final checkpoint when the run has an out directory).
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GenwidgetsError
from ..runtime import channel, distributed
from ..runtime.checkpoint import read_checkpoint
from ..runtime.events import Event
from ..runtime.run import Run

_WEIGHT_EVENTS = ("samples",)
_FINAL_STATES = ("paused", "stopped", "finished", "failed")


def build_run(spec: dict[str, Any]) -> Run:
    """The Run a spec describes (every rank calls this with the same spec)."""
    from ..api import train

    data: Any = spec["data"]
    labels = None
    if isinstance(data, dict) and "split" in data:
        from ..api import load_data
        from ..data.splits import rebuild_split

        data = rebuild_split(load_data(data["name"], **data.get("options", {})), data["split"])
    elif isinstance(data, dict) and "npz" in data:
        with np.load(data["npz"], allow_pickle=False) as arrays:
            data = arrays["x"]
            labels = arrays["labels"] if "labels" in arrays.files else None
    resume_from = spec.get("resume")
    tensors, state = read_checkpoint(resume_from) if resume_from else ({}, None)
    run = train(spec["model"], data, steps=spec.get("steps"),
                config=state["config"] if state else spec.get("config"),
                preset=None if state else spec.get("preset"), out=spec.get("out"), device=spec.get("device"),
                precision=spec.get("precision", "auto"), labels=labels,
                data_options=spec.get("data_options"), start=False, **spec.get("run_options", {}))
    if state is not None:
        run.load_state(tensors, state)  # every rank: same weights, optimizer, data order and RNG
        run.resumed_from = Path(resume_from)  # as genwidgets.resume: its own run folder may be continued
    return run


class KernelBridge:
    """Rank 0's side of the channel: events and weights out, commands in."""

    def __init__(self, run: Run, conn: channel.Connection) -> None:
        self.run, self.conn = run, conn
        self._subscription = run.subscribe(self._forward, max_queue=4096)
        self._reader = threading.Thread(target=self._read_commands, name="genwidgets-worker-commands", daemon=True)

    def start(self) -> None:
        """Start taking commands (events flow from construction on)."""
        self._reader.start()

    def _forward(self, event: Event) -> None:
        try:
            if event.kind in _WEIGHT_EVENTS or (event.kind == "state" and event.data.get("new") in _FINAL_STATES):
                self.send_weights()
            self.conn.send({"type": "event", "kind": event.kind, "step": event.step, "time": event.time,
                            "train_seconds": self.run.train_seconds}, data=event.data)
        except channel.ChannelClosed:
            pass  # the reader sees the closed channel and stops the run

    def send_weights(self) -> None:
        """Send the model's current weights (taken between two steps) as safetensors bytes."""
        from safetensors.torch import save

        with self.run.between_steps():
            state = {k: v.detach().to("cpu", copy=True).contiguous()
                     for k, v in distributed.plain_state_dict(self.run.model).items()}
            step = self.run.step_count
        self.conn.send({"type": "weights", "step": step}, raw={"safetensors": save(state)})

    def _read_commands(self) -> None:
        while True:
            try:
                message = self.conn.receive()
            except channel.ChannelClosed:
                if self.run.is_alive:  # the kernel is gone: stop every rank, keep a final checkpoint
                    self.run.stop(wait=False)
                return
            if message.type == "command":
                self._apply(message.header)

    def _apply(self, command: dict[str, Any]) -> None:
        op = command.get("op")
        try:
            if op == "pause":
                self.run.pause(wait=False)
            elif op == "resume":
                self.run.resume(steps=command.get("steps"))
            elif op == "stop":
                self.run.stop(wait=False)
            elif op == "set_hparams":
                self.run.set_hparams(**command.get("values", {}))
            elif op == "save":
                self.run.save(command.get("path"))
            elif op == "weights":
                self.send_weights()
            else:
                raise GenwidgetsError(f"unknown command {op!r}")
        except Exception as exc:  # noqa: BLE001 - a bad command must not end training; the kernel hears why
            self.run.events.publish(Event("warning", self.run.step_count, {
                "message": f"command {op!r} failed in the worker: {type(exc).__name__}: {exc}"}))

    def close(self) -> None:
        """Deliver what is queued, then close the channel."""
        self._subscription.flush(timeout=10.0)
        self._subscription.close(join=5.0)
        self.conn.close()


def main(argv: list[str] | None = None) -> int:
    """Run one rank of a launched run; returns the exit status (see :func:`run_and_exit`)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m genwidgets.launcher.worker SPEC.json (started by genwidgets.launch)", file=sys.stderr)
        return 2
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the kernel asks for stacks before it kills
    spec = json.loads(Path(args[0]).read_text())
    run = build_run(spec)
    pids = run.group.pids() if run.group.world_size > 1 else None
    bridge = None
    if run.dist is None or run.dist.is_main:
        conn = channel.connect_from_env({
            "world_size": run.dist.world_size if run.dist else 1, "pids": pids or [], "step": run.step_count,
            "runtime": run.runtime.describe()})
        if conn is not None:
            bridge = KernelBridge(run, conn)
            bridge.start()
    status = 0
    try:
        run.start()
        run.wait()
    except BaseException:  # noqa: BLE001 - the error event already went to the kernel
        traceback.print_exc()
        status = 1
    finally:
        if bridge is not None:
            bridge.close()
    _RUNS.append(run)  # see run_and_exit: the DDP-wrapped networks must not be destroyed
    return status


#: Runs kept alive until the process exits (see :func:`run_and_exit`).
_RUNS: list[Run] = []


def run_and_exit() -> None:
    """Run :func:`main`, then leave the process without interpreter finalisation.

    Everything is written and closed by then (checkpoint fsynced, events delivered, channel
    closed). What is left are DDP's and gloo's native objects: destroying them after training
    (when ``main``'s locals go, or at interpreter finalisation) blocked forever on a futex now and
    then (seen 2 runs in ~10 on a loaded 2-core machine: main thread in a destructor, gloo's
    threads waiting), so the worker keeps them alive and exits with ``os._exit``.
    """
    code = main()
    from ..runtime.shutdown import close_all

    close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
