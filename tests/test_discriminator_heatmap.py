"""DiscriminatorHeatmap, Python side: capabilities, views, frames on the wire, live updates, fallbacks.

Real runs of real (tiny) models on real data. The only stand-in is the transport: a comm that
records what the widget would put on the wire instead of talking to a kernel.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from typing import Any

import comm
import numpy as np
import pytest
import torch
import traitlets
from comm.base_comm import BaseComm
from PIL import Image
from torch import nn

import genwidgets as gw
from genwidgets.errors import CapabilityError
from genwidgets.widgets import DiscriminatorHeatmap, wire
from genwidgets_models.dcgan import DCGAN


class RecordingComm(BaseComm):
    """A comm that keeps every custom message the widget publishes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.published: list[tuple[Any, list[bytes]]] = []
        self._lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                    **keys: Any) -> None:
        if msg_type == "comm_msg" and (data or {}).get("method") == "custom":
            with self._lock:
                self.published.append((data["content"], [bytes(b) for b in buffers or []]))

    def frames(self) -> list[dict[str, Any]]:
        with self._lock:
            return [wire.unpack(c, b) for c, b in self.published if c.get("op") == "frame"]

    def from_front_end(self, content: Any) -> None:
        self.handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


@pytest.fixture(autouse=True)
def recording(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", RecordingComm)


def ring_run(model: str = "gan", steps: int | None = 20, preset: str = "toy2d", **options: Any) -> gw.Run:
    opts = {"log_every": 5, "sample_every": 10, "checkpoint_every": None, **options}
    return gw.train(model, data="ring", preset=preset, steps=steps, start=False, **opts)


# ---- capabilities and views ------------------------------------------------------------------
def test_a_model_without_discriminate_gets_a_clear_error_naming_model_and_capability() -> None:
    run = gw.train("vae", data="ring", preset="tiny", steps=1, start=False, checkpoint_every=None)
    with pytest.raises(CapabilityError) as info:
        DiscriminatorHeatmap(run)
    message = str(info.value)
    assert "'vae'" in message and "can_discriminate" in message and "list_models" in message
    with pytest.raises(CapabilityError, match="needs a genwidgets model"):
        DiscriminatorHeatmap(object())


def test_views_follow_capabilities_and_data_and_bad_choices_are_explained() -> None:
    gan = DiscriminatorHeatmap(ring_run(preset="tiny"))
    assert gan.views == ["plane", "latent"] and gan.view == "plane"
    images = DiscriminatorHeatmap(gw.train("dcgan", data="digits", preset="tiny", steps=1, start=False,
                                           checkpoint_every=None))
    assert images.views == ["scores", "latent"] and images.view == "scores"
    with pytest.raises(traitlets.TraitError, match="data plane needs 2-D points.*choose one of scores, latent"):
        images.view = "plane"
    with pytest.raises(traitlets.TraitError, match="one of plane, scores, latent"):
        gan.view = "3d"
    with pytest.raises(traitlets.TraitError, match="latent_dims must be two different"):
        gan.latent_dims = [0, 0]
    with pytest.raises(traitlets.TraitError, match="extent"):
        gan.extent = [1.0, -1.0, 0.0, 1.0]
    with pytest.raises(traitlets.TraitError, match="sort must be"):
        gan.sort = "random"
    with pytest.raises(traitlets.TraitError, match=r"one of the model's 512 fixed-noise codes"):
        gan.latent_index = 512


# ---- frames ---------------------------------------------------------------------------------
def test_a_plane_frame_travels_as_binary_buffers_with_real_scores() -> None:
    run = ring_run()
    run.step(20)
    w = DiscriminatorHeatmap(run)
    assert w.wait_idle()
    frames = w.comm.frames()
    assert frames and frames[-1]["step"] == 20 and w.step == 20
    content, buffers = w.comm.published[-1]
    text = json.dumps(content)
    assert len(text) < 2000, "arrays must travel as buffers, not JSON"
    assert sum(len(b) for b in buffers) >= 128 * 128 * 4
    f = frames[-1]
    assert f["z"].dtype == np.float32 and f["z"].shape == (128, 128)
    assert f["real"].shape == (512, 2) and f["fake"].shape == (512, 2) and f["arrows"].shape == (64, 4)
    assert f["scale"]["kind"] == "probability" and (f["scale"]["zmin"], f["scale"]["zmax"]) == (0.0, 1.0)
    # The heatmap is the model's own D: check one cell against a direct call.
    x0, x1, y0, y1 = f["extent"]
    i, j = 40, 90
    x, y = x0 + (j + 0.5) * (x1 - x0) / 128, y0 + (i + 0.5) * (y1 - y0) / 128
    with torch.no_grad(), run.model.evaluating():
        d = float(run.model.discriminate(torch.tensor([[x, y]], dtype=torch.float32)))
    assert f["z"][i, j] == pytest.approx(d, rel=1e-4, abs=1e-6)
    # The extent covers the ring (radius 1) with room to spare.
    assert x0 < -1.2 and x1 > 1.2 and y0 < -1.2 and y1 > 1.2


def test_wgan_critics_get_an_unbounded_symmetric_scale_named_in_the_legend() -> None:
    run = ring_run("wgan_gp", preset="tiny")
    run.step(20)
    w = DiscriminatorHeatmap(run)
    w.wait_idle()
    s = w.frame["scale"]
    assert w.score_kind == "critic" and s["kind"] == "critic" and "unbounded" in s["title"]
    assert s["zmax"] - s["zmid"] == pytest.approx(s["zmid"] - s["zmin"])
    z = w.frame["z"]
    assert s["zmin"] <= z.min() and z.max() <= s["zmax"] + 1e-6


def test_conditional_models_are_scored_per_class_and_the_class_is_selectable() -> None:
    run = gw.train("cgan", data="ring", preset="tiny", steps=10, start=False, checkpoint_every=None)
    run.step(10)
    w = DiscriminatorHeatmap(run)
    w.wait_idle()
    assert w.conditional and w.class_names == [str(k) for k in range(8)]
    first = w.frame["z"].copy()
    w.label = 3
    w.wait_idle()
    f = w.frame
    assert f["label"] == 3 and not np.allclose(f["z"], first)
    modes = run.data.modes
    nearest = np.argmin(((f["real"][:, None, :] - modes[None]) ** 2).sum(-1), axis=1)
    assert (nearest == 3).mean() > 0.95, "real points shown should be class 3's"
    with pytest.raises(traitlets.TraitError, match=r"class index in \[0, 8\)"):
        w.label = 8


def test_score_grid_frames_images_by_score_and_sorting_is_a_synced_trait() -> None:
    run = gw.train("dcgan", data="digits", preset="tiny", steps=10, start=False, checkpoint_every=None)
    run.step(10)
    w = DiscriminatorHeatmap(run, examples=8)
    w.wait_idle()
    f = w.frame
    assert f["images"].dtype == np.uint8 and f["images"].shape == (16, 8, 8, 1)
    assert f["real"].tolist() == [1] * 8 + [0] * 8 and f["scores"].shape == (16,)
    real = run.data.examples(64, seed=0).x[:8]
    with torch.no_grad(), run.model.evaluating():
        np.testing.assert_allclose(f["scores"][:8], run.model.discriminate(real).numpy(), rtol=1e-5)
    assert "patches" not in f
    w.sort = "desc"                                       # what the front end's button sets
    png = Image.open(io.BytesIO(w.to_png()))
    assert png.width > 300


class PatchDCGAN(DCGAN):
    """A PatchGAN-style critic on DCGAN's generator: D outputs a 2x2 map of logits per image."""

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        generator, _ = super().build_networks()
        c = self.data_spec.shape[0]
        critic = nn.Sequential(nn.Conv2d(c, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 3, 2, 1))  # (N, 1, 2, 2)
        return generator, critic

    def critic(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(x)[:, 0]               # (N, 2, 2) patch logits


def test_patch_discriminators_send_their_per_patch_maps() -> None:
    data = gw.load_data("digits")
    model = gw.build_model(PatchDCGAN, data.spec, preset="tiny")
    run = gw.Run(model, data, steps=5, checkpoint_every=None, plugin_events=False)
    run.step(5)
    w = DiscriminatorHeatmap(run, examples=4)
    w.wait_idle()
    f = w.frame
    assert f["patches"].shape == (8, 2, 2) and f["patches"].dtype == np.float32
    np.testing.assert_allclose(f["scores"], f["patches"].reshape(8, -1).mean(1), rtol=1e-5)


def test_latent_view_scores_g_of_z_over_a_plane_with_thumbnails() -> None:
    run = gw.train("dcgan", data="digits", preset="tiny", steps=3, start=False, checkpoint_every=None)
    run.step(3)
    w = DiscriminatorHeatmap(run, view="latent", slice_resolution=12)
    w.wait_idle()
    f = w.frame
    assert f["view"] == "latent" and f["z"].shape == (12, 12) and f["thumbs"].shape == (8, 8, 8, 8, 1)
    assert f["axes"] == "z[0] x z[1]"
    w.latent_mode = "random"
    w.wait_idle()
    assert w.frame["axes"].startswith("random directions")


# ---- live updates and the training loop ------------------------------------------------------
def test_live_frames_follow_training_at_a_bounded_rate() -> None:
    run = ring_run(steps=200, log_every=2)
    w = DiscriminatorHeatmap(run, resolution=32, max_rate=5)
    run.start().wait()
    assert w.wait_idle()
    steps = [f["step"] for f in w.comm.frames()]
    assert steps[-1] == 200 and w.state == "finished"
    assert steps == sorted(steps)
    assert len(steps) < 100 / 2, "frames must be coalesced, not one per metrics event"


def test_looking_never_changes_the_training_trajectory() -> None:
    def final_weights(watch: bool) -> dict[str, torch.Tensor]:
        run = ring_run(steps=60, log_every=1)
        w = DiscriminatorHeatmap(run, resolution=16, max_rate=50) if watch else None
        run.start().wait()
        if w is not None:
            w.wait_idle()
            assert len(w.comm.frames()) >= 2
            w.close()
        return {k: v.clone() for k, v in run.model.state_dict().items()}

    a, b = final_weights(True), final_weights(False)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_hello_gets_the_latest_frame_and_closing_ends_the_subscription_not_the_run() -> None:
    run = ring_run(steps=10)
    run.step(10)
    w = DiscriminatorHeatmap(run, resolution=16)
    w.wait_idle()
    n = len(w.comm.frames())
    w.comm.from_front_end({"op": "hello"})
    assert len(w.comm.frames()) == n + 1
    w.close()
    assert w.closed and run.state == "created" and run.step_count == 10


def test_a_bare_model_works_with_data_and_refresh() -> None:
    data = gw.load_data("ring")
    model = gw.build_model("gan", data.spec, preset="tiny")
    w = DiscriminatorHeatmap(model, data=data, resolution=16)
    assert w.title == "gan on ring" and w.state == ""
    w.wait_idle()
    assert w.frame["real"].shape == (512, 2)
    frame = w.refresh()
    assert frame["step"] == 0 and frame["z"].shape == (16, 16)


def test_static_fallback_is_a_png_beside_the_live_view() -> None:
    run = ring_run(steps=5)
    run.step(5)
    w = DiscriminatorHeatmap(run, resolution=32)
    w.wait_idle()
    data, _ = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert png.format == "PNG" and png.width >= 360
    pixels = np.asarray(png.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, "the PNG should show the heatmap, not a blank"
