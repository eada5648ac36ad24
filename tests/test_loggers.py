import csv

import genwidgets


def test_csv_logger_writes_one_row_per_logged_step_and_appends_on_resume(tmp_path):
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=20, out=tmp_path, log_every=5,
                           checkpoint_every=None, sample_every=20)
    run.wait()
    run.events.flush()
    rows = list(csv.DictReader((tmp_path / "metrics.csv").read_text().splitlines()))
    assert [int(r["step"]) for r in rows] == [5, 10, 15, 20]
    assert set(rows[0]) == {"step", "time", "steps_per_sec", "loss", "recon", "kl", "elbo"}
    assert abs(float(rows[-1]["loss"]) - run.history.snapshot()["values"]["loss"][-1]) < 1e-4
    resumed = genwidgets.resume(tmp_path, steps=30)
    resumed.wait()
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("step,") and sum(line.startswith("step,") for line in lines) == 1
    assert [int(r["step"]) for r in csv.DictReader(lines)] == [5, 10, 15, 20, 25, 30]


def test_logger_is_a_plugin_that_can_be_left_out(monkeypatch, tmp_path):
    plugins = {p["name"]: p for p in genwidgets.list_plugins()}
    assert plugins["csv"]["hooks"] == ["on_train_event"] and plugins["csv"]["distribution"] == "genwidgets"
    monkeypatch.setenv("GENWIDGETS_LOAD_PLUGINS", "models,datasets")
    genwidgets.reset_registry()
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=5, out=tmp_path, log_every=5, checkpoint_every=None)
    run.wait()
    assert not (tmp_path / "metrics.csv").exists()
