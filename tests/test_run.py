"""The training Run: background loop, controls, events, errors, live edits, exact resume."""

import dataclasses
import threading
import time

import pytest
import torch

import genwidgets
from genwidgets import ConfigError, NonFiniteLossError, RunError
from genwidgets.runtime.checkpoint import list_checkpoints


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def _vae_run(**kw):
    opts = dict(data="ring", preset="tiny", steps=None, log_every=5, sample_every=10, checkpoint_every=None)
    opts.update(kw)
    return genwidgets.train("vae", **opts)


def test_pause_resume_stop_reflect_the_loop():
    run = _vae_run(start=False)
    states = []
    run.subscribe(lambda ev: states.append(ev.data["new"]), kinds=["state"])
    run.start()
    assert _wait_for(lambda: run.step_count >= 20)
    run.pause()
    assert run.state == "paused"
    frozen = run.step_count
    time.sleep(0.3)
    assert run.step_count == frozen  # really paused, not just labelled
    run.resume()
    assert _wait_for(lambda: run.step_count > frozen + 5)
    assert run.state == "running"
    run.stop()
    assert run.state == "stopped" and not run.is_alive
    run.wait()
    assert states == ["running", "paused", "running", "stopped"]


def test_resume_for_n_steps_pauses_again_exactly_n_steps_later():
    """Protects: resume(steps=n) (what a launched run's step(n) uses) trains n steps, then pauses by itself."""
    run = _vae_run()
    assert _wait_for(lambda: run.step_count >= 5)
    run.pause()
    frozen = run.step_count
    run.resume(steps=7)
    assert _wait_for(lambda: run.state == "paused" and run.step_count == frozen + 7)
    time.sleep(0.2)
    assert run.step_count == frozen + 7 and run.state == "paused"
    run.resume()
    assert _wait_for(lambda: run.step_count > frozen + 12)  # a plain resume has no step budget left over
    with pytest.raises(ConfigError, match="steps"):
        run.resume(steps=0)
    run.stop()


def test_finishes_at_steps_and_publishes_metrics_and_samples():
    events = []
    run = _vae_run(steps=40, start=False)
    run.subscribe(events.append)
    run.start().wait()
    assert run.state == "finished" and run.step_count == 40
    metrics = [e for e in events if e.kind == "metrics"]
    assert [e.step for e in metrics] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert set(metrics[-1].data["values"]) == {"loss", "recon", "kl", "elbo"}
    assert metrics[-1].data["steps_per_sec"] > 0
    samples = [e for e in events if e.kind == "samples"]
    assert [e.step for e in samples] == [10, 20, 30, 40]
    assert samples[-1].data["points"].shape[1] == 2 and samples[-1].data["points"].dtype.name == "float32"
    assert run.history.snapshot()["steps"] == [5, 10, 15, 20, 25, 30, 35, 40]
    with pytest.raises(RunError, match="already reached its 40 steps"):
        run.start()


def test_step_by_hand_only_when_not_running(digits):
    run = genwidgets.train("dcgan", data=digits, preset="tiny", steps=None, start=False, checkpoint_every=None)
    out = run.step(3)
    assert run.step_count == 3 and set(out) == {"loss_d", "loss_g", "d_real", "d_fake"}
    assert all(isinstance(v, float) for v in out.values())
    run.start()
    with pytest.raises(RunError, match="pause\\(\\) it before stepping"):
        run.step()
    run.pause()
    before = run.step_count
    run.step(2)
    assert run.step_count == before + 2 and run.state == "paused"
    run.stop()


def test_live_hparams_apply_at_next_step_and_are_validated(digits):
    run = genwidgets.train("dcgan", data=digits, preset="tiny", steps=None, start=False, checkpoint_every=None)
    seen = []
    run.subscribe(lambda ev: seen.append((ev.step, ev.data)), kinds=["hparams"])
    run.start()
    assert _wait_for(lambda: run.step_count > 3)
    run.set_hparams(lr_g=1e-3, d_steps=2)
    assert _wait_for(lambda: run.model.optimizers["g"].param_groups[0]["lr"] == 1e-3)
    assert run.model.config.d_steps == 2 and run.hparams["lr_g"] == 1e-3
    with pytest.raises(ConfigError, match=r"latent_dim cannot change during training; editable for 'dcgan': "):
        run.set_hparams(latent_dim=3)
    with pytest.raises(ConfigError, match=r"lr_d=-1.0 is out of range"):
        run.set_hparams(lr_d=-1.0)
    run.stop()
    run.wait()
    assert seen and seen[0][1] == {"lr_g": 1e-3, "d_steps": 2}
    assert run.model.optimizers["d"].param_groups[0]["lr"] == run.model.config.lr_d  # untouched by the bad edit


def _faulty_vae_class(kind):
    base = genwidgets.get_model("vae")

    class FaultyVAE(base):
        """A real VAE that misbehaves at its 7th step (raises, or returns a NaN loss)."""

        name = "faulty_vae"

        def train_step(self, batch):
            out = super().train_step(batch)
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls == 7:
                if kind == "raise":
                    raise ValueError("bad batch at step 7")
                out = {**out, "loss": torch.tensor(float("nan"))}
            return out

    return FaultyVAE


@pytest.mark.parametrize("kind", ["raise", "nan"])
def test_errors_become_events_stop_the_run_and_reraise_from_wait(ring, kind):
    cls = _faulty_vae_class(kind)
    model = cls(cls.Config.from_dict(preset="tiny"), data_spec=ring.spec)
    errors = []
    run = genwidgets.train(model, data=ring, steps=100, start=False, log_every=5)
    run.subscribe(errors.append, kinds=["error"])
    run.start()
    expected = ValueError if kind == "raise" else NonFiniteLossError
    with pytest.raises(expected) as err:
        run.wait()
    completed = 6 if kind == "raise" else 7  # a step that raised did not complete; a NaN step did
    assert run.state == "failed" and run.step_count == completed
    assert len(errors) == 1 and errors[0].step == completed
    if kind == "nan":
        assert "step 7 of 'faulty_vae' produced a non-finite value (loss=nan)" in str(err.value)
        assert "stopped instead of training on it" in errors[0].data["message"]
    else:
        assert errors[0].data["message"] == "ValueError: bad batch at step 7"
        assert "Traceback" in errors[0].data["traceback"]
    with pytest.raises(RunError, match="failed"):
        run.start()


def test_checkpoints_written_pruned_and_final(tmp_path, ring):
    run = genwidgets.train("vae", data=ring, preset="tiny", steps=50, out=tmp_path, checkpoint_every=10,
                           keep_checkpoints=2, log_every=5, sample_every=25)
    run.wait()
    names = [p.name for p in list_checkpoints(tmp_path)]
    assert names == ["step-00000040", "step-00000050"]
    assert run.last_checkpoint.name == "step-00000050"
    with pytest.raises(RunError, match="has no out_dir"):
        genwidgets.train("vae", data=ring, preset="tiny", steps=1, start=False).save()


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize(("family", "data"), [("dcgan", "digits"), ("vae", "digits"), ("vae", "ring")])
def test_resume_is_bit_for_bit(tmp_path, family, data):
    kw = dict(data=data, preset="tiny", log_every=3, sample_every=4, checkpoint_every=None, start=False)
    straight = genwidgets.train(family, steps=14, **kw)
    straight.step(14)
    reference = _params(straight.model)

    first = genwidgets.train(family, steps=14, out=tmp_path, **kw)
    first.step(6)
    path = first.save()
    for _ in range(3):  # wander on: the resumed run must not depend on what happened after the save
        torch.rand(100)
        first.step(1)
    resumed = genwidgets.resume(path, start=False)
    assert resumed.step_count == 6 and resumed.history.steps == first.history.steps[:6]
    resumed.start().wait()
    assert resumed.step_count == 14
    got = _params(resumed.model)
    assert got.keys() == reference.keys()
    for key in reference:
        assert torch.equal(got[key], reference[key]), key


def test_history_is_bounded():
    from genwidgets.runtime.history import MetricHistory

    hist = MetricHistory(max_points=100)
    for step in range(1, 100_001):
        hist.append(step, {"loss": 1.0 / step})
    assert len(hist) < 100 and hist.steps[0] == 1 and hist.steps[-1] > 99_000
    assert hist.steps == sorted(hist.steps)


def test_many_subscribers_and_one_that_blocks_do_not_slow_the_loop(ring):
    gate = threading.Event()
    run = _vae_run(steps=60, start=False)
    sub = run.subscribe(lambda ev: gate.wait(30), max_queue=4)
    fast = [run.subscribe(lambda ev: None) for _ in range(5)]
    run.start()
    assert _wait_for(lambda: run.state == "finished")  # finished while one subscriber is stuck
    gate.set()
    run.wait()
    assert sub.dropped > 0 and all(s.dropped == 0 for s in fast)


def test_bad_run_arguments():
    with pytest.raises(ConfigError, match="log_every must be an integer >= 1"):
        _vae_run(log_every=0, start=False)
    with pytest.raises(ConfigError, match="steps must be an integer >= 0"):
        _vae_run(steps=-3, start=False)


def test_dataclass_config_roundtrips_through_checkpoint(tmp_path):
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=2, out=tmp_path, config={"latent_dim": 3},
                           start=False)
    run.step(2)
    model = genwidgets.load_model(run.save())
    assert dataclasses.asdict(model.config) == dataclasses.asdict(run.model.config)
    assert model.latent_dim == 3 and model.sample(5).shape == (5, 2)


def test_between_steps_lets_a_waiting_widget_in_at_the_next_step_boundary(ring):
    """A widget waiting in between_steps() gets in at the next step boundary, not after the loop
    wins the lock race again and again (an unfair lock made widgets wait up to 1.8 s).

    Counted in steps, not seconds: how many steps the loop took while the widget waited (a fair
    hand-off lets it in after the step in progress), and that training goes on between visits.
    """
    run = genwidgets.train("gan", data=ring, preset="tiny", steps=None, checkpoint_every=None, log_every=100)
    taken_while_waiting = []
    try:
        _wait_until(lambda: run.step_count >= 20)
        for _ in range(40):
            asked_at = run.step_count
            with run.between_steps():
                taken_while_waiting.append(run.step_count - asked_at)
                inside = run.step_count
            _wait_until(lambda inside=inside: run.step_count > inside)  # training goes on between the widget's visits
    finally:
        run.stop()
    taken_while_waiting.sort()
    assert taken_while_waiting[-3] <= 2, f"steps the loop took while a widget waited: {taken_while_waiting[-5:]}"


def _wait_until(condition, timeout: float = 60.0) -> None:
    """Wait on state (bounded), never a fixed time."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        time.sleep(0.001)


def test_a_live_edit_wins_over_a_scheduled_one_due_at_the_same_step():
    """Planned edits apply first at their step, then live ones, by hand and in the loop alike."""
    run = _vae_run(start=False, steps=40, schedule={5: {"lr": 0.002}, 20: {"lr": 0.003}})
    run.step(5)  # the edit planned for step 5 is due before step 6
    run.set_hparams(lr=0.0005)  # not training: applied now, after the planned one due at this step
    assert run.hparams["lr"] == 0.0005
    assert run.edit_log == [(5, {"lr": 0.002}), (5, {"lr": 0.0005})]
    run.resume(steps=15)  # once started, pause exactly at step 20, where lr=0.003 is planned
    run.start()
    assert _wait_for(lambda: run.state == "paused" and run.step_count == 20)
    run.set_hparams(lr=0.0007)  # pending while paused; applied at the resume, after the planned edit
    run.resume()
    run.wait()
    assert run.hparams["lr"] == 0.0007
    assert run.edit_log[-2:] == [(20, {"lr": 0.003}), (20, {"lr": 0.0007})]
