"""TrainingPanel, Python side: traits, wire messages, coalescing, the history bound, controls -> Run.

Everything runs a real Run training a real (tiny) model on real MNIST digits. The only stand-in
is the transport: a comm that records what the widget would put on the wire instead of
talking to a kernel (the same role ipywidgets' own DummyComm plays outside a kernel).
"""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import genwidgets as gw
from genwidgets.widgets import TrainingPanel, wire
from genwidgets.widgets.series import ThinnedSeries
from genwidgets.widgets.throttle import Coalescer

DCGAN_METRICS = ["loss_d", "loss_g", "d_real", "d_fake"]


def make_run(steps: int | None = 8, model: Any = "dcgan", **options: Any) -> gw.Run:
    opts = {"log_every": 1, "sample_every": 4, "checkpoint_every": None, **options}
    return gw.train(model, data="mnist", preset="tiny", steps=steps, start=False, **opts)


def appended_rows(messages: list[tuple[Any, list[bytes]]], width: int = 5) -> np.ndarray:
    rows = [np.frombuffer(b[0], np.float32).reshape(-1, width) for c, b in messages if c == wire.APPEND]
    return np.concatenate(rows) if rows else np.empty((0, width), np.float32)


def ops(messages: list[tuple[Any, list[bytes]]]) -> list[Any]:
    return ["append" if c == wire.APPEND else c["op"] for c, _ in messages]


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# ---- wire -------------------------------------------------------------------------------------
def test_pack_puts_arrays_in_binary_buffers_and_unpack_restores_them() -> None:
    images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3, 1)
    rows = np.array([[1, 0.5, 0.25]], dtype=np.float32)
    content, buffers = wire.pack({"op": "x", "images": images, "nested": [{"rows": rows}], "n": 3})
    assert content["images"] == {"$b": 0, "dtype": "uint8", "shape": [2, 3, 3, 1]}
    assert content["nested"][0]["rows"] == {"$b": 1, "dtype": "float32", "shape": [1, 3]}
    assert [bytes(b) for b in buffers] == [images.tobytes(), rows.tobytes()]
    text = json.dumps(content)
    assert "0.25" not in text and "base64" not in text  # values travel only as raw bytes
    back = wire.unpack(content, buffers)
    np.testing.assert_array_equal(back["images"], images)
    np.testing.assert_array_equal(back["nested"][0]["rows"], rows)
    assert back["n"] == 3


def test_pack_refuses_dtypes_the_front_end_cannot_read_and_handles_empty_arrays() -> None:
    with pytest.raises(TypeError, match="int64"):
        wire.pack({"a": np.zeros(3, np.int64)})
    content, buffers = wire.pack({"a": np.zeros((0, 5), np.float32)})
    assert content["a"]["shape"] == [0, 5] and bytes(buffers[0]) == b""


def test_a_metric_append_is_its_rows_plus_one_byte() -> None:
    rows = np.array([[10, 0.7, 1.2, 0.9, 0.1]], dtype=np.float32)
    content, buffers = wire.append_message(rows)
    assert content == wire.APPEND and bytes(buffers[0]) == rows.tobytes()
    assert wire.payload_size(content, buffers) == rows.nbytes + 1 <= 1.1 * rows.nbytes
    with pytest.raises(TypeError):
        wire.append_message(rows.astype(np.float64))


# ---- coalescing -------------------------------------------------------------------------------
def test_coalescer_bounds_the_flush_rate_and_always_sends_the_last_change() -> None:
    seen: list[int] = []
    latest = [0]
    coalescer = Coalescer(lambda: seen.append(latest[0]), max_rate=20)
    start = time.monotonic()
    for i in range(1, 5001):
        latest[0] = i
        coalescer.poke()
        if i % 50 == 0:
            time.sleep(0.005)
    elapsed = time.monotonic() - start
    assert coalescer.wait_idle(2.0)
    coalescer.close()
    assert seen[-1] == 5000  # the trailing flush carried the final state
    assert 2 <= len(seen) <= elapsed * 20 + 2, (len(seen), elapsed)


def test_coalescer_survives_a_failing_flush_and_can_change_rate() -> None:
    calls: list[int] = []

    def flush() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("send failed")

    coalescer = Coalescer(flush, max_rate=50)
    coalescer.poke()
    assert coalescer.wait_idle(2.0)
    coalescer.max_rate = 100
    coalescer.poke()
    assert coalescer.wait_idle(2.0)
    coalescer.close()
    assert len(calls) == 2 and coalescer.flushes == 2
    with pytest.raises(ValueError):
        coalescer.max_rate = 0


# ---- history bound ----------------------------------------------------------------------------
def test_thinned_series_stays_bounded_keeps_both_ends_and_matches_the_front_end_rule() -> None:
    series = ThinnedSeries(max_points=16)
    kept = [step for step in range(1, 100_001) if series.offer(step, {"loss": 1.0 / step})]
    assert len(series) < 16
    assert series.steps[0] == 1 and series.steps[-1] == kept[-1]
    assert series.steps == sorted(series.steps) and series.stride & (series.stride - 1) == 0
    # The front end receives only kept rows and halves them at max_points (metric_store.ts): mirror it.
    mirror: list[int] = []
    for step in kept:
        mirror.append(step)
        if len(mirror) >= 16:
            mirror = mirror[::2] + ([mirror[-1]] if len(mirror) % 2 == 0 else [])
    assert mirror == series.steps
    np.testing.assert_allclose(series.matrix()[:, 1], [1.0 / s for s in series.steps], rtol=1e-6)


def test_panel_history_is_bounded_for_long_runs(recording: None) -> None:
    run = make_run(steps=100, sample_every=1000)
    panel = TrainingPanel(run, max_points=8)
    run.start().wait()
    panel.wait_idle()
    series = panel.feed.series
    assert len(series) < 8 and panel.max_points == 8 and series.stride >= 16
    assert series.steps[0] == 1 and series.last_step > 100 - series.stride
    panel.close()


# ---- traits and messages ----------------------------------------------------------------------
def test_panel_traits_follow_the_run(recording: None) -> None:
    run = make_run(steps=8)
    panel = TrainingPanel(run)
    assert panel.state == "created" and panel.title == "dcgan on mnist"
    assert [s["name"] for s in panel.hparam_specs] == list(run.model.Config.editable_fields())
    assert panel.hparams == run.hparams and panel.device == "cpu" and panel.precision == "fp32"
    assert panel.progress["step"] == 0 and panel.progress["total"] == 8
    run.start().wait()
    panel.wait_idle()
    assert panel.state == "finished" and panel.error == ""
    assert panel.progress["step"] == 8 and panel.progress["steps_per_sec"] > 0
    assert panel.metric_names == DCGAN_METRICS
    panel.close()


def test_updates_carry_only_new_rows_and_a_hello_gets_the_full_history_once(recording: None) -> None:
    run = make_run(steps=6)
    panel = TrainingPanel(run)
    run.start().wait()
    panel.wait_idle()
    sent = panel.comm.custom()
    assert ops(sent)[0] == "columns" and sent[0][0]["columns"] == DCGAN_METRICS
    rows = appended_rows(sent)
    assert rows[:, 0].tolist() == [1, 2, 3, 4, 5, 6]  # each step's row exactly once
    np.testing.assert_allclose(rows[-1, 1:], [run.latest_metrics[k] for k in DCGAN_METRICS], rtol=1e-6)
    assert "samples" in ops(sent) and "reset" not in ops(sent)

    before = len(sent)
    panel.comm.from_front_end({"op": "hello", "nonce": "page-1"})
    reset = panel.comm.custom()[before:]
    assert ops(reset) == ["reset", "samples"]
    full = wire.unpack(*reset[0])
    assert full["nonce"] == "page-1" and full["columns"] == DCGAN_METRICS and full["max_points"] == 10_000
    np.testing.assert_array_equal(full["rows"], rows)
    samples = wire.unpack(*reset[1])
    assert samples["images"].shape == (64, 28, 28, 1) and samples["images"].dtype == np.uint8

    run.steps = 9
    run.start().wait()
    panel.wait_idle()
    after = panel.comm.custom()[before + 2 :]
    assert appended_rows(after)[:, 0].tolist() == [7, 8, 9]  # the history was not resent
    panel.close()


def test_panels_opened_mid_run_and_after_it_start_from_the_history(recording: None) -> None:
    run = make_run(steps=40, log_every=2, sample_every=10)
    first = TrainingPanel(run)
    run.start()
    wait_for(lambda: run.step_count >= 10)
    second = TrainingPanel(run)  # opened mid-run
    run.wait()
    third = TrainingPanel(run)  # opened on the finished run
    for panel in (first, second, third):
        panel.wait_idle()
        assert panel.feed.series.steps == list(range(2, 41, 2)), panel
        assert panel.state == "finished" and panel.feed.samples.step == 40
        panel.comm.from_front_end({"op": "hello", "nonce": "n"})
        reset = wire.unpack(*[m for m in panel.comm.custom() if m[0] != wire.APPEND
                              and m[0]["op"] == "reset"][-1])
        assert reset["rows"][:, 0].tolist() == list(range(2, 41, 2))
        panel.close()


# ---- controls -> run --------------------------------------------------------------------------
def test_controls_from_the_front_end_drive_the_run_and_the_state_comes_from_it(recording: None, tmp_path) -> None:
    run = make_run(steps=None, log_every=5, sample_every=50, out=tmp_path)
    panel = TrainingPanel(run)
    front = panel.comm
    front.from_front_end({"op": "control", "action": "start"})
    assert run.state == "running"
    wait_for(lambda: run.step_count >= 3)
    front.from_front_end({"op": "control", "action": "pause"})
    wait_for(lambda: run.state == "paused")
    panel.wait_idle()
    assert panel.state == "paused"
    paused_at = run.step_count
    front.from_front_end({"op": "control", "action": "step"})
    assert run.step_count == paused_at + 1 and panel.notice == f"stepped to {paused_at + 1}"
    front.from_front_end({"op": "control", "action": "save"})
    assert panel.notice.startswith("saved ") and (tmp_path / "checkpoints").is_dir()
    front.from_front_end({"op": "control", "action": "resume"})
    wait_for(lambda: run.step_count > paused_at + 3)
    panel.wait_idle()
    assert panel.state == "running"
    front.from_front_end({"op": "control", "action": "step"})
    assert "pause() it" in panel.notice  # refused by the run, said in the panel, run unharmed
    front.from_front_end({"op": "control", "action": "stop"})
    run.wait(30)
    panel.wait_idle()
    assert run.state == "stopped" and panel.state == "stopped" and panel.last_checkpoint
    panel.close()


def test_a_pause_from_python_shows_in_the_panel(recording: None) -> None:
    run = make_run(steps=None, log_every=5)
    panel = TrainingPanel(run)
    run.start()
    wait_for(lambda: run.step_count >= 2)
    run.pause()
    panel.wait_idle()
    assert panel.state == "paused"
    run.stop()
    panel.wait_idle()
    assert panel.state == "stopped"
    panel.close()


def test_hyperparameter_edits_apply_at_the_next_step_and_bad_values_are_explained(recording: None) -> None:
    run = make_run(steps=None)
    panel = TrainingPanel(run)
    panel.comm.from_front_end({"op": "hparams", "values": {"lr_g": 1e-3, "d_steps": 2}})
    run.step(1)
    panel.wait_idle()
    assert run.model.config.lr_g == 1e-3 and run.model.config.d_steps == 2
    assert panel.hparams["lr_g"] == 1e-3 and panel.hparams["d_steps"] == 2 and panel.notice == ""
    panel.comm.from_front_end({"op": "hparams", "values": {"lr_g": 5.0}})
    assert "lr_g" in panel.notice and "range" in panel.notice
    panel.comm.from_front_end({"op": "hparams", "values": {"latent_dim": 3}})
    assert "cannot change during training" in panel.notice
    assert run.model.config.lr_g == 1e-3
    panel.close()


def test_planned_and_applied_edits_are_marked_and_survive_a_resume(recording: None, tmp_path) -> None:
    """Protects: the panel's edit marks: the schedule's entries ahead are planned, each applied edit
    (scheduled or live) becomes an applied mark at its step, and a panel on a resumed run starts from them."""
    run = make_run(steps=None, out=tmp_path, schedule={3: {"lr_g": 1e-4}, 50: {"lr_d": 5e-5}})
    panel = TrainingPanel(run)
    assert panel.edits == [{"step": 3, "values": {"lr_g": 1e-4}, "planned": True},
                           {"step": 50, "values": {"lr_d": 5e-5}, "planned": True}]
    run.step(4)
    run.set_hparams(d_steps=2)
    run.step(1)
    panel.wait_idle()
    assert panel.edits == [{"step": 3, "values": {"lr_g": 1e-4}, "planned": False},
                           {"step": 4, "values": {"d_steps": 2}, "planned": False},
                           {"step": 50, "values": {"lr_d": 5e-5}, "planned": True}]
    resumed = gw.resume(run.save(), start=False)
    again = TrainingPanel(resumed)
    assert again.edits == panel.edits
    # The static PNG marks the applied edits too: dotted grey (#888888) lines, which nothing else in the plot
    # area draws (the sample grid, right of it, may hold that grey).
    from genwidgets.widgets.png.panel import MARGIN, PLOT_W

    plain = make_run(steps=5)
    plain.step(5)
    # A mark is a column of them: count columns holding at least 10 (anti-aliased text has a few such pixels).
    grey = [int(((np.asarray(Image.open(io.BytesIO(p.to_png())).convert("RGB"))[40:, MARGIN:MARGIN + PLOT_W]
                  == (136, 136, 136)).all(-1).sum(0) >= 10).sum()) for p in (again, TrainingPanel(plain))]
    assert grey[0] >= 1 and grey[1] == 0, grey
    panel.close()
    again.close()


# ---- errors -----------------------------------------------------------------------------------
class ExplodingDCGAN(gw.get_model("dcgan")):  # type: ignore[misc]
    """DCGAN that fails at its third step: raises, or returns a NaN loss."""

    name = "exploding_dcgan"
    mode = "raise"

    def train_step(self, batch: gw.Batch) -> dict[str, Any]:
        metrics = super().train_step(batch)
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 3 and self.mode == "raise":
            raise RuntimeError("the generator caught fire")
        if self.calls == 3:
            metrics["loss_g"] = torch.tensor(float("nan"))
        return metrics


@pytest.mark.parametrize(("mode", "expected"), [("raise", "RuntimeError: the generator caught fire"),
                                                ("nan", "non-finite value (loss_g=nan)")])
def test_a_failing_run_shows_a_banner_stops_and_the_process_lives_on(recording: None, mode: str,
                                                                     expected: str) -> None:
    model_cls = type("Exploding", (ExplodingDCGAN,), {"mode": mode})
    run = make_run(steps=20, model=model_cls)
    panel = TrainingPanel(run)
    run.start()
    with pytest.raises(Exception, match="caught fire|non-finite"):
        run.wait(30)
    panel.wait_idle()
    assert expected in panel.error and panel.state == "failed" and run.state == "failed"
    assert "Traceback" in panel.error_detail
    assert run.step_count < 20 and not run.is_alive
    late = TrainingPanel(run)  # a panel opened afterwards shows the error too
    assert expected in late.error and late.state == "failed"
    panel.close()
    late.close()


# ---- samples, fallback, lifecycle, sizes ------------------------------------------------------
def test_autoencoders_show_reconstructions_beside_their_inputs(recording: None) -> None:
    run = make_run(steps=2, model="vae", sample_every=2)
    panel = TrainingPanel(run)
    run.start().wait()
    panel.wait_idle()
    samples = [wire.unpack(c, b) for c, b in panel.comm.custom() if c != wire.APPEND and c["op"] == "samples"]
    assert samples[-1]["recon_inputs"].shape == samples[-1]["recon"].shape == (8, 28, 28, 1)
    assert samples[-1]["images"].shape[0] == 64
    panel.close()


def test_conditional_models_get_one_row_of_samples_per_class(recording: None) -> None:
    run = make_run(steps=2, model="cgan", sample_every=2)
    panel = TrainingPanel(run)
    run.start().wait()
    panel.wait_idle()
    samples = [wire.unpack(c, b) for c, b in panel.comm.custom() if c != wire.APPEND and c["op"] == "samples"]
    assert samples[-1]["images"].shape == (100, 28, 28, 1) and samples[-1]["cols"] == 10
    assert "recon" not in samples[-1]  # GANs invert slowly: no reconstructions by default
    panel.close()


def test_static_fallback_is_a_png_of_curves_and_samples_beside_the_live_view(recording: None) -> None:
    run = make_run(steps=8)
    panel = TrainingPanel(run)
    run.start().wait()
    panel.wait_idle()
    data, _ = panel._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id
    image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert image.format == "PNG" and image.width > 600 and image.height > 300
    pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # curves and digits, not a blank frame
    panel.close()


def test_closing_the_panel_ends_its_subscription_but_not_the_run(recording: None) -> None:
    run = make_run(steps=30)
    panel = TrainingPanel(run)
    panel.close()
    assert panel.closed and panel._subscription.closed and panel._coalescer.closed
    run.start().wait()
    assert run.state == "finished" and len(panel.feed.series) == 0


def test_bytes_on_the_wire_stay_within_a_tenth_of_the_raw_data(recording: None) -> None:
    run = make_run(steps=30, log_every=1, sample_every=10)
    panel = TrainingPanel(run, max_rate=5)
    run.start().wait()
    panel.wait_idle()
    stats = [s for s in panel.feed.stats if s.op in ("append", "samples")]
    assert {s.op for s in stats} == {"append", "samples"}
    assert all(s.payload <= 1.1 * s.raw for s in stats), stats
    buffer_bytes = sum(len(b) for _, buffers in panel.comm.custom() for b in buffers)
    assert buffer_bytes == sum(s.raw for s in stats)  # the binary buffers hold the data and nothing else
    panel.close()


def test_max_rate_is_live(recording: None) -> None:
    panel = TrainingPanel(make_run(steps=2), max_rate=3)
    assert panel._coalescer.max_rate == 3
    panel.max_rate = 25
    assert panel._coalescer.max_rate == 25
    panel.close()


class _SpreadMetric:
    """A plugin with one metric: the spread of the model's samples (and one that always fails)."""

    @gw.hookimpl
    def register_metrics(self, register):
        def spread(model, data, *, n, seed):
            with torch.no_grad():
                return {"std": float(model.sample(n).float().std()), "note": "not a number"}

        def broken(model, data, *, n, seed):
            raise RuntimeError("metric exploded")

        register("spread", spread, description="std of samples")
        register("broken", broken, description="always fails")


def test_plugin_metrics_are_computed_live_and_plotted_beside_the_losses(recording):
    """Protects: a plugin's registered metric shows in the panel as curves at its interval; a failing one
    becomes a notice naming its plugin while training and the other curves go on."""
    gw.get_registry().add_plugin(_SpreadMetric(), name="acme-metrics")
    run = make_run(steps=12, model="gan", log_every=2, sample_every=4)
    panel = TrainingPanel(run, metrics=["spread", "broken"], metric_every=4)
    run.start().wait()
    assert panel.wait_idle()
    series = panel.feed.series
    assert "spread.std" in series.columns and "spread.note" not in series.columns
    spread = dict(zip(series.steps, series.values["spread.std"], strict=True))
    assert all(np.isfinite(spread[s]) and spread[s] > 0 for s in (4, 8, 12))
    assert all(np.isnan(spread[s]) for s in (2, 6, 10))
    assert "metric 'broken' of plugin 'acme-metrics' failed: RuntimeError: metric exploded" in panel.notice
    assert run.state == "finished"
    with pytest.raises(gw.ConfigError, match="unknown plugin metrics"):
        TrainingPanel(run, metrics=["nope"])
    panel.close()
