"""Scheduled hyperparameter edits: a planned lr drop trains exactly like a hand-made one, survives
checkpoints, and bad plans are refused before training."""

import json

import pytest
import torch

import genwidgets
from genwidgets import ConfigError
from genwidgets.cli import main
from genwidgets.runtime.schedule import HparamSchedule

KW = dict(data="ring", preset="tiny", log_every=2, sample_every=4, checkpoint_every=None, start=False)


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_scheduled_drop_equals_the_same_drop_made_by_hand():
    planned = genwidgets.train("vae", steps=12, schedule={6: {"lr": 1e-4}}, **KW)
    seen = []
    planned.subscribe(lambda ev: seen.append((ev.step, ev.data)), kinds=["hparams"])
    initial = planned.model.config.lr
    assert initial != 1e-4
    planned.step(6)
    assert planned.model.optimizers["model"].param_groups[0]["lr"] == initial  # not yet
    planned.step(6)
    assert planned.model.optimizers["model"].param_groups[0]["lr"] == 1e-4
    assert planned.hparams["lr"] == 1e-4

    by_hand = genwidgets.train("vae", steps=12, **KW)
    by_hand.step(6)
    by_hand.set_hparams(lr=1e-4)
    by_hand.step(6)
    _assert_same(_params(planned.model), _params(by_hand.model))
    planned.events.flush(timeout=5.0)
    assert seen == [(6, {"lr": 1e-4})]  # announced once, at the step it applied


def test_the_schedule_is_saved_and_a_resumed_run_applies_only_what_is_left(tmp_path):
    straight = genwidgets.train("vae", steps=12, schedule={4: {"lr": 3e-4}, 8: {"lr": 1e-4}}, **KW)
    straight.step(12)

    first = genwidgets.train("vae", steps=12, out=tmp_path, schedule={4: {"lr": 3e-4}, 8: {"lr": 1e-4}}, **KW)
    first.step(6)
    path = first.save()
    state = json.loads((path / "state.json").read_text())
    assert state["run"]["schedule"] == [[4, {"lr": 3e-4}], [8, {"lr": 1e-4}]]
    assert state["config"]["lr"] == 3e-4  # the first drop is in the saved config already

    resumed = genwidgets.resume(path, start=False)
    assert resumed.schedule.next_step == 8
    resumed.step(6)
    assert resumed.model.optimizers["model"].param_groups[0]["lr"] == 1e-4
    _assert_same(_params(resumed.model), _params(straight.model))


def test_a_live_edit_after_a_planned_one_is_not_undone_by_a_resume(tmp_path):
    run = genwidgets.train("vae", steps=10, out=tmp_path, schedule={2: {"lr": 1e-4}}, **KW)
    run.step(4)
    run.set_hparams(lr=2e-4)
    run.step(1)
    resumed = genwidgets.resume(run.save(), start=False)
    resumed.step(2)
    assert resumed.model.optimizers["model"].param_groups[0]["lr"] == 2e-4
    assert resumed.schedule.next_step is None


def test_a_resume_can_replace_the_plan(tmp_path):
    run = genwidgets.train("vae", steps=10, out=tmp_path, schedule={8: {"lr": 1e-4}}, **KW)
    run.step(3)
    resumed = genwidgets.resume(run.save(), schedule={5: {"lr": 5e-5}}, start=False)
    resumed.step(5)
    assert resumed.model.optimizers["model"].param_groups[0]["lr"] == 5e-5


@pytest.mark.parametrize(("schedule", "message"), [
    ({5: {"latent_dim": 3}}, r"the schedule at step 5 edits latent_dim, which cannot change during training; "
                             r"editable: .*lr"),
    ({5: {"lr": -1.0}}, r"the schedule at step 5: .*lr=-1.0 is out of range"),
    ({0: {"lr": 1e-4}}, r"integer >= 1; got 0 \(step 0 is the config itself"),
    ({5: {}}, r"the schedule entry at step 5 needs at least one field=value"),
    ([(5,)], r"a schedule entry is \(step, \{field: value\}\)"),
])
def test_bad_plans_are_refused_before_training(schedule, message):
    with pytest.raises(ConfigError, match=message):
        genwidgets.train("vae", steps=10, schedule=schedule, **KW)


def test_schedule_merges_entries_and_reads_json_keys():
    schedule = HparamSchedule([("10", {"lr": 1e-4}), (10, {"beta": 2.0}), (3, {"lr": 3e-4})])
    assert schedule.entries == [(3, {"lr": 3e-4}), (10, {"lr": 1e-4, "beta": 2.0})]
    assert schedule.due(2) == {} and schedule.next_step == 3
    assert schedule.due(12) == {"lr": 1e-4, "beta": 2.0} and schedule.next_step is None  # late: both, in order
    schedule.start_at(4)
    assert schedule.next_step == 10


def test_cli_at_plans_a_drop_and_refuses_a_malformed_one(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "vae", "--data", "ring", "--preset", "tiny", "--steps", "6", "--out", str(out),
                 "--at", "3:lr=1e-4", "--quiet", "--checkpoint-every", "100"])
    assert code == 0
    state = json.loads(next((out / "checkpoints").iterdir()).joinpath("state.json").read_text())
    assert state["config"]["lr"] == 1e-4 and state["run"]["schedule"] == [[3, {"lr": 1e-4}]]

    assert main(["train", "vae", "--data", "ring", "--preset", "tiny", "--steps", "6", "--out",
                 str(tmp_path / "bad"), "--at", "3lr=1e-4", "--quiet"]) == 1
    assert "--at expects STEP:KEY=VALUE, e.g. --at 45000:lr=1e-4, got '3lr=1e-4'" in capsys.readouterr().err
