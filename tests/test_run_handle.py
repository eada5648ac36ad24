"""One run surface: Run and LaunchedRun are RunHandles, and a late subscriber gets the current state."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import genwidgets
from genwidgets.launcher import LaunchedRun
from genwidgets.runtime.handle import RunBase, RunHandle


def _tiny_vae(**kw):
    opts = dict(data="ring", preset="tiny", steps=30, log_every=5, sample_every=10, checkpoint_every=None, start=False)
    opts.update(kw)
    return genwidgets.train("vae", **opts)


def _collect(run, **kw):
    got, lock = [], threading.Lock()

    def keep(event):
        with lock:
            got.append(event)

    sub = run.subscribe(keep, **kw)
    return got, sub


def test_a_run_and_a_launched_run_are_both_run_handles(tmp_path: Path):
    run = _tiny_vae()
    spec = {"steps": 10, "data_source": {"name": "ring"}}
    launched = LaunchedRun(spec, model=run.model, data=run.data, processes=2, work_dir=tmp_path)
    for handle in (run, launched):
        assert isinstance(handle, RunHandle) and isinstance(handle, RunBase)
        assert handle.state == "created" and handle.step_count == 0 and handle.edit_log == []
    assert repr(launched).startswith("<LaunchedRun vae on ring x2 processes step 0/10 created")
    assert repr(run) == "<Run vae on ring step 0/30 created>"


def test_a_subscriber_before_the_start_receives_only_what_happens():
    run = _tiny_vae()
    got, sub = _collect(run)
    run.start().wait()
    sub.flush()
    assert not any(e.data.get("replay") for e in got)
    assert [e.data["new"] for e in got if e.kind == "state"] == ["running", "finished"]
    assert [e.step for e in got if e.kind == "metrics"] == [5, 10, 15, 20, 25, 30]


def test_a_late_subscriber_to_a_finished_run_gets_its_state_at_once(tmp_path: Path):
    run = _tiny_vae(out=tmp_path / "run")
    run.start().wait()
    got, sub = _collect(run)
    assert sub.flush(5.0)
    assert all(e.data["replay"] for e in got)
    by_kind = {e.kind: e for e in got}
    assert list(by_kind) == ["metrics", "samples", "checkpoint", "state"]  # the order a run's events end
    assert by_kind["state"].data["new"] == "finished"
    assert by_kind["metrics"].step == 30 and by_kind["metrics"].data["values"] == run.latest_metrics
    assert by_kind["samples"].step == 30 and by_kind["samples"].data["points"].shape[1] == 2
    assert Path(by_kind["checkpoint"].data["path"]) == run.last_checkpoint


def test_kinds_filter_the_replay_too():
    run = _tiny_vae()
    run.start().wait()
    got, sub = _collect(run, kinds=["metrics"])
    assert sub.flush(5.0)
    assert [(e.kind, e.step) for e in got] == [("metrics", 30)]


def _wait_for(condition, timeout: float = 120.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        done.wait(0.01)
    return condition()


def test_a_subscriber_joining_a_training_run_misses_nothing_and_sees_nothing_twice():
    run = _tiny_vae(steps=2000, log_every=2, sample_every=10_000)
    run.start()
    joins = []
    for at in (20, 200, 600, 1000, 1400):  # join at five moments of the run
        assert _wait_for(lambda at=at: run.step_count >= at)
        got, sub = _collect(run, kinds=["metrics"])
        assert _wait_for(lambda got=got: len(got) >= 5 or not run.is_alive)
        sub.close()
        joins.append([(e.step, bool(e.data.get("replay"))) for e in got])
    run.stop()
    for seen in joins:
        steps = [step for step, _ in seen]
        assert seen[0][1] and not any(replayed for _, replayed in seen[1:]), seen  # the replay comes first, once
        assert all(b - a == 2 for a, b in zip(steps, steps[1:], strict=False)), steps  # no gap, no duplicate


def test_a_failed_run_replays_its_error():
    run = _tiny_vae()
    run.model.train_step = lambda batch: (_ for _ in ()).throw(RuntimeError("boom"))
    run.start()
    with pytest.raises(RuntimeError, match="boom"):
        run.wait()
    got, sub = _collect(run)
    assert sub.flush(5.0)
    assert [e.kind for e in got] == ["error", "state"]
    errors = [e for e in got if e.kind == "error"]
    assert len(errors) == 1 and errors[0].data["replay"] and "boom" in errors[0].data["message"]
    assert [e.data["new"] for e in got if e.kind == "state"] == ["failed"]
