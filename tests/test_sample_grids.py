"""The ``samples`` logger plugin: every run with an output folder keeps the grid of each sample event."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
from PIL import Image

import genwidgets
from genwidgets import cli
from genwidgets.loggers import sample_grids
from genwidgets.loggers.sample_grids import SampleWriter, list_sample_grids
from genwidgets.runtime.events import Event


def _train(out, family="vae", data="digits", *, steps=12, sample_every=4, **kwargs):
    run = genwidgets.train(family, data=data, preset="tiny", steps=steps, out=out, sample_every=sample_every,
                           log_every=sample_every, checkpoint_every=None, device="cpu", **kwargs)
    run.wait()
    assert run.events.flush(30.0)
    return run


def _fake_run(out, *, is_main=True):
    """What the hook reads from a run: ``out_dir``, ``dist`` and ``events`` (to publish a warning)."""
    published = []
    dist = None if is_main else SimpleNamespace(is_main=False, rank=1, world_size=2)
    return SimpleNamespace(out_dir=out, dist=dist, events=SimpleNamespace(publish=published.append)), published


def _images_event(step, **extra):
    images = np.random.default_rng(step).integers(0, 256, (16, 8, 8, 1), dtype=np.uint8)
    return Event("samples", step, {"images": images, **extra})


def test_the_logger_is_a_builtin_plugin():
    plugins = {p["name"]: p for p in genwidgets.list_plugins()}
    record = plugins["samples"]
    assert record["hooks"] == ["on_train_event"] and record["distribution"] == "genwidgets"
    assert record["error"] is None


def test_a_python_run_keeps_one_grid_per_sample_event(tmp_path):
    run = _train(tmp_path)
    grids = list_sample_grids(tmp_path)
    assert [step for step, _ in grids] == [4, 8, 12]
    assert [p.name for _, p in grids] == ["step-00000004.png", "step-00000008.png", "step-00000012.png"]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [p.name for _, p in grids]  # nothing else
    image = np.asarray(Image.open(grids[-1][1]))
    assert image.ndim == 2 and image.std() > 0  # a real grey grid of digits, not a blank image
    assert (tmp_path / "samples.png").read_bytes() == grids[-1][1].read_bytes()  # the latest
    assert run.latest_samples.step == 12
    assert id(run) not in sample_grids._writers  # forgotten once the run finished


def test_a_points_model_writes_scatter_plots(tmp_path):
    _train(tmp_path, "gan", "ring", steps=6, sample_every=3)
    grids = list_sample_grids(tmp_path)
    assert [step for step, _ in grids] == [3, 6]
    with Image.open(grids[0][1]) as img:
        assert img.mode == "RGB" and img.size == (400, 400)


def test_replayed_events_and_other_ranks_write_nothing(tmp_path):
    run, published = _fake_run(tmp_path)
    sample_grids.on_train_event(run, _images_event(5, replay=True))
    SampleWriter(tmp_path, run=run)(_images_event(5, replay=True))
    assert not (tmp_path / "samples").exists() and not (tmp_path / "samples.png").exists()
    other_rank, _ = _fake_run(tmp_path, is_main=False)
    sample_grids.on_train_event(other_rank, _images_event(5))
    assert list_sample_grids(tmp_path) == []
    sample_grids.on_train_event(run, _images_event(5))  # the same event, live, on rank 0
    sample_grids.on_train_event(run, Event("state", 5, {"old": "running", "new": "finished"}))
    assert [step for step, _ in list_sample_grids(tmp_path)] == [5] and published == []
    no_out, _ = _fake_run(None)
    sample_grids.on_train_event(no_out, _images_event(6))  # no out_dir: nothing, anywhere


def test_list_sample_grids_ignores_temporaries_and_foreign_files(tmp_path):
    assert list_sample_grids(tmp_path) == [] and list_sample_grids(tmp_path / "missing") == []
    folder = tmp_path / "samples"
    folder.mkdir()
    for name in ("step-00000010.png", "step-00000002.png", "step-123456789.png", ".step-00000003.png.tmp",
                 ".step-00000004.png", "notes.txt", "step-abc.png", "step-00000005.png.bak", "step-6.jpg",
                 "xstep-00000007.png"):
        (folder / name).write_bytes(b"x")
    (folder / "step-00000008.png").mkdir()
    (tmp_path / "samples.png").write_bytes(b"x")
    assert list_sample_grids(tmp_path) == [(2, folder / "step-00000002.png"), (10, folder / "step-00000010.png"),
                                           (123456789, folder / "step-123456789.png")]
    (tmp_path / "file").write_bytes(b"x")
    assert list_sample_grids(tmp_path / "file") == []


def test_a_write_failure_is_one_warning_and_training_finishes(tmp_path):
    (tmp_path / "samples").write_bytes(b"not a folder")
    run = genwidgets.train("vae", data="digits", preset="tiny", steps=12, out=tmp_path, sample_every=4,
                           log_every=4, checkpoint_every=None, device="cpu", start=False)
    warnings = []
    sub = run.subscribe(lambda event: warnings.append(event.data["message"]), kinds=["warning"])
    run.start()
    run.wait()
    assert run.events.flush(30.0) and sub.flush(30.0)
    assert run.state == "finished" and run.step_count == 12
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("sample grid of step 4 not written, training goes on")
    assert (tmp_path / "samples").read_bytes() == b"not a folder" and not (tmp_path / "samples.png").exists()
    assert list_sample_grids(tmp_path) == []


def _count_writes(monkeypatch):
    steps = []
    write = SampleWriter._write

    def counting(self, event):
        steps.append(event.step)
        write(self, event)

    monkeypatch.setattr(SampleWriter, "_write", counting)
    return steps


def _cli_train(out, capsys):
    code = cli.main(["train", "vae", "--data", "digits", "--preset", "tiny", "--device", "cpu", "--steps", "4",
                     "--sample-every", "2", "--log-every", "2", "--checkpoint-every", "0", "--out", str(out),
                     "--quiet", "--json"])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_the_command_line_writes_each_grid_once(tmp_path, monkeypatch, capsys):
    steps = _count_writes(monkeypatch)
    summary = _cli_train(tmp_path / "run", capsys)
    assert steps == [2, 4]  # by the plugin alone, not by the plugin and the command line
    assert [step for step, _ in list_sample_grids(tmp_path / "run")] == [2, 4]
    assert summary["figures"] == [str(tmp_path / "run" / "reconstructions.png")]


def test_the_command_line_writes_grids_itself_when_the_plugin_is_left_out(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENWIDGETS_LOAD_PLUGINS", "models,datasets")
    genwidgets.reset_registry()
    steps = _count_writes(monkeypatch)
    _cli_train(tmp_path / "run", capsys)
    assert steps == [2, 4]
    assert [step for step, _ in list_sample_grids(tmp_path / "run")] == [2, 4]
    assert (tmp_path / "run" / "samples.png").exists()
