"""LatentExplorer, Python side: messages and buffers, coalesced probes, sliders, paths, live refresh.

Real models trained on real MNIST digits; the only stand-in is the comm (``recording`` in conftest).
"""

from __future__ import annotations

import base64
import io
import threading
import time
from typing import Any

import numpy as np
import pytest
import torch
from latent_models import DecoderOnly, DecoderOnlyConfig, SampleOnly
from PIL import Image

import genwidgets as gw
from genwidgets.errors import CapabilityError
from genwidgets.widgets import LatentExplorer, wire

pytestmark = pytest.mark.usefixtures("recording")


@pytest.fixture(scope="module")
def vae_run() -> gw.Run:
    run = gw.train("vae", data="mnist", preset="tiny", steps=40, checkpoint_every=None, log_every=20)
    run.wait()
    return run


def messages(ex: LatentExplorer, op: str | None = None) -> list[dict[str, Any]]:
    out = [wire.unpack(c, b) for c, b in ex.comm.custom()]
    return [m for m in out if op is None or m.get("op") == op]


def hello(ex: LatentExplorer) -> None:
    ex.comm.from_front_end({"op": "hello", "nonce": "page-1"})
    assert ex.wait_idle()


def decoded(model: Any, z: np.ndarray, **kw: Any) -> np.ndarray:
    with torch.no_grad(), model.evaluating():
        out = model.decode(torch.as_tensor(z, dtype=torch.float32).reshape(1, -1), **kw)
    return np.round(out.numpy().transpose(0, 2, 3, 1) * 255)


def test_hello_sends_the_map_the_output_and_a_traversal_as_binary_buffers(vae_run):
    ex = LatentExplorer(vae_run, n=500)
    hello(ex)
    assert [m["op"] for m in messages(ex)] == ["map", "output", "traversal"]
    content, buffers = ex.comm.custom()[0]
    assert content["points"] == {"$b": 0, "dtype": "float32", "shape": [500, 2]}  # never JSON lists
    assert content["labels"]["dtype"] == "int32" and content["thumbs"]["shape"] == [500, 28, 28, 1]
    assert len(buffers[2]) == 500 * 28 * 28
    (m,) = messages(ex, "map")
    assert m["nonce"] == "page-1"
    np.testing.assert_allclose(m["points"], ex.session.state.points)
    (out,) = messages(ex, "output")
    assert out["output"].shape == (1, 28, 28, 1) and out["output"].dtype == np.uint8
    assert np.abs(out["output"].astype(int) - decoded(vae_run.model, ex.z)).max() <= 1
    (trav,) = messages(ex, "traversal")
    assert trav["outputs"].shape == (2 * 9, 28, 28, 1) and trav["measure"] == "KL (nats)"
    assert ex.slider_dims == trav["dims"] and ex.slider_measure == "KL (nats)"
    assert ex.map_info["source"] == "encode"
    assert "posterior means of 500 examples of mnist" in ex.map_info["description"]
    ex.close()


def test_probes_are_coalesced_newest_wins_and_answers_acknowledge_every_request(vae_run):
    ex = LatentExplorer(vae_run, n=300)
    gate = threading.Event()
    ex._worker.submit("block", lambda: gate.wait(10))  # the worker is busy, as during a slow decode
    start = time.monotonic()
    for i in range(1, 51):
        ex.comm.from_front_end({"op": "probe", "x": 0.02 * i, "y": -0.1, "seq": i})
    assert time.monotonic() - start < 1.0, "the message handler blocked"
    gate.set()
    assert ex.wait_idle()
    outputs = messages(ex, "output")
    assert [o["seq"] for o in outputs] == [50], "only the newest probe should be decoded"
    assert outputs[0]["ack"] == 50
    z = np.array(ex.z, dtype=np.float32)
    np.testing.assert_allclose(ex.session.state.projection.project(z[None])[0], [1.0, -0.1], atol=1e-5)
    np.testing.assert_allclose(outputs[0]["point"], [1.0, -0.1], atol=1e-5)
    assert outputs[0]["base_index"] is not None  # fill="nearest" took the rest from a map point
    ex.close()


def test_a_slider_moves_one_component_and_decodes(vae_run):
    ex = LatentExplorer(vae_run, n=300)
    before = np.array(ex.z)
    dim = ex.slider_dims[0]
    ex.comm.from_front_end({"op": "slide", "dim": dim, "value": 2.5, "seq": 1, "final": True})
    assert ex.wait_idle()
    after = np.array(ex.z)
    assert after[dim] == pytest.approx(2.5) and np.allclose(np.delete(after, dim), np.delete(before, dim))
    (out,) = messages(ex, "output")
    assert np.abs(out["output"].astype(int) - decoded(vae_run.model, after)).max() <= 1
    assert len(messages(ex, "traversal")) == 1  # a released slider refreshes the traversal around the new z
    ex.comm.from_front_end({"op": "slide", "dim": 99, "value": 0.0, "seq": 2})
    assert ex.wait_idle() and "outside the latent space" in ex.notice
    ex.close()


def test_a_click_on_a_point_picks_that_example_exactly(vae_run):
    ex = LatentExplorer(vae_run, n=300)
    ex.comm.from_front_end({"op": "pick", "index": 42, "seq": 1})
    assert ex.wait_idle()
    (out,) = messages(ex, "output")
    assert out["picked"] and out["base_index"] == 42
    np.testing.assert_array_equal(np.array(ex.z, dtype=np.float32), ex.session.state.latent_map.codes[42])
    ex.comm.from_front_end({"op": "pick", "index": 300, "seq": 2})
    assert ex.wait_idle() and "map point 300 does not exist" in ex.notice
    ex.close()


def test_setting_z_from_python_decodes_it_and_bad_z_is_refused(vae_run):
    ex = LatentExplorer(vae_run, n=300)
    ex.z = [0.5, -1.0]
    assert ex.wait_idle()
    (out,) = messages(ex, "output")
    np.testing.assert_allclose(out["z"], [0.5, -1.0])
    ex.z = [1.0, 2.0, 3.0]
    assert "z must have 2 values" in ex.notice
    ex.close()


def test_interpolation_needs_both_ends_then_sends_the_path(vae_run):
    ex = LatentExplorer(vae_run, n=300)
    ex.comm.from_front_end({"op": "interpolate"})
    assert ex.wait_idle() and "set both interpolation ends first" in ex.notice
    ex.comm.from_front_end({"op": "endpoint", "which": "a"})
    ex.z = [2.0, 2.0]
    assert ex.wait_idle()
    ex.comm.from_front_end({"op": "endpoint", "which": "b"})
    assert set(ex.endpoints) == {"a", "b", "a_point", "b_point"}  # descriptions, and where the map marks A and B
    for which in "ab":
        on_map = ex.session.state.projection.project(ex._ends[which][None])[0]
        assert np.allclose(ex.endpoints[f"{which}_point"], on_map, atol=1e-6)
    ex.interp_mode, ex.interp_steps = "spherical", 6
    ex.comm.from_front_end({"op": "interpolate"})
    assert ex.wait_idle()
    (path,) = messages(ex, "interpolation")
    assert path["mode"] == "spherical" and path["outputs"].shape == (6, 28, 28, 1)
    assert np.abs(path["outputs"][-1].astype(int) - decoded(vae_run.model, [2.0, 2.0])[0]).max() <= 1
    ex.close()


def test_choosing_two_dimensions_redraws_the_map_without_re_encoding(vae_run):
    ex = LatentExplorer(vae_run, n=300)
    codes = ex.session.state.latent_map.codes
    ex.dims = [1, 0]
    assert ex.wait_idle()
    (m,) = messages(ex, "map")
    np.testing.assert_allclose(m["points"], codes[:, [1, 0]])
    assert ex.map_info["axis_titles"] == ["z[1]", "z[0]"]
    assert ex.session.state.latent_map.codes is codes
    ex.close()


def test_conditional_models_get_a_class_selector():
    run = gw.train("cgan", data="mnist", preset="tiny", steps=5, checkpoint_every=None)
    run.wait()
    ex = LatentExplorer(run, n=100)
    assert ex.class_names == [str(i) for i in range(10)] and ex.label == 0
    ex.label = 7
    assert ex.wait_idle()
    out = messages(ex, "output")[-1]
    assert np.abs(out["output"].astype(int) - decoded(run.model, ex.z, labels=torch.tensor([7]))).max() <= 1
    ex.label = 12
    assert "class label must be in [0, 10)" in ex.notice
    ex.close()


def test_a_gan_maps_prior_codes_and_a_decoder_only_model_works_on_points():
    run = gw.train("dcgan", data="mnist", preset="tiny", steps=5, checkpoint_every=None)
    run.wait()
    ex = LatentExplorer(run, n=200)
    assert ex.map_info["source"] == "prior" and ex.slider_measure == "output change per unit"
    assert ex.map_info["layout"] == "outputs" and ex.map_info["fill_applies"] is False
    ex.close()
    model = DecoderOnly(DecoderOnlyConfig(), data_spec=gw.load_data("ring").spec)
    ex = LatentExplorer(model, n=200)
    hello(ex)
    (m,) = messages(ex, "map")
    assert m["thumbs"] is None and m["data_points"].shape == (200, 2)
    (out,) = messages(ex, "output")
    assert out["output"].dtype == np.float32 and out["output"].shape == (1, 2)
    assert ex.live is False
    ex.close()


def test_a_gan_map_places_codes_by_classifier_features_coloured_by_predicted_class(monkeypatch, tmp_path):
    monkeypatch.setenv("GENWIDGETS_CACHE", str(tmp_path))  # empty: the classifier is MNIST's shipped one
    from genwidgets.explore.latent_map import decode
    from genwidgets.explore.projection import PCAProjection
    from genwidgets.metrics.classifier import cached_classifier

    run = gw.train("dcgan", data="mnist", preset="tiny", steps=20, checkpoint_every=None)
    run.wait()
    ex = LatentExplorer(run, n=300)
    info = ex.map_info
    assert info["layout"] == "outputs" and info["label_kind"] == "predicted class"
    assert info["label_names"] == [str(i) for i in range(10)] and "classifier features" in info["projection"]
    state = ex.session.state
    network = cached_classifier(run.data).network
    with ex.session.view.calling() as model:
        outputs = decode(model, torch.from_numpy(state.latent_map.codes), None)
    np.testing.assert_array_equal(state.latent_map.labels, network.predict(outputs).numpy())
    features = network.features(outputs).detach().numpy()
    np.testing.assert_allclose(state.points, PCAProjection(features).project(features), atol=1e-3)
    # the probe of a code on the map is drawn where that code is
    z = state.latent_map.codes[7]
    np.testing.assert_allclose(state.projection.project(z[None])[0], state.points[7], atol=1e-3)
    # and a decoded code is placed from the outputs already at hand, where projecting it would put it
    np.testing.assert_allclose(ex.session.place(z, ex.session.decode_floats(z[None])), state.points[7], atol=1e-3)
    ex.map_layout = "codes"
    assert ex.wait_idle() and ex.map_info["layout"] == "codes" and ex.map_info["fill_applies"] is True
    assert ex.map_info["projection"].startswith("PCA of the codes")
    ex.close()


def test_a_gan_map_without_a_classifier_uses_pixels_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GENWIDGETS_CACHE", str(tmp_path))  # digits ship no classifier, and none is trained here
    run = gw.train("gan", data="digits", preset="tiny", steps=5, checkpoint_every=None)
    run.wait()
    ex = LatentExplorer(run, n=200)
    assert ex.map_info["layout"] == "outputs" and "pixels" in ex.map_info["projection"]
    assert ex.map_info["label_kind"] == "class" and ex.session.state.latent_map.labels is None
    assert not any(tmp_path.rglob("*.safetensors"))  # opening the explorer trained nothing
    ex.close()


def test_a_model_without_decode_is_refused_with_the_reason():
    with pytest.raises(CapabilityError, match="needs the 'can_decode' capability"):
        LatentExplorer(SampleOnly(DecoderOnlyConfig(), data_spec=gw.load_data("ring").spec))


def test_live_explorer_re_encodes_while_the_run_trains_without_slowing_it_to_a_stop():
    run = gw.train("vae", data="mnist", preset="tiny", steps=None, checkpoint_every=None, log_every=10,
                   sample_every=20)
    ex = LatentExplorer(run, n=300, refresh_interval=0.2)
    hello(ex)
    first = ex.map_info["step"]
    deadline = time.monotonic() + 20
    while ex.map_info["step"] is None or ex.map_info["step"] <= (first or 0) + 20:
        assert time.monotonic() < deadline, f"the map never refreshed past step {first}"
        time.sleep(0.1)
    run.stop()
    assert ex.wait_idle()
    assert len(messages(ex, "map")) >= 2 and ex.notice == ""
    ex.close()
    assert ex._worker.closed and ex._subscription.closed


def test_a_live_explorer_shows_the_finished_runs_last_model_however_long_its_refresh_interval():
    """The last map is built when the run ends, not after the interval (a costly map lengthens it: the
    refresh keeps within a quarter of a core), so wait_idle() after the run covers it."""
    run = gw.train("gan", data="ring", preset="toy2d", steps=40, log_every=2, sample_every=10,
                   checkpoint_every=None, start=False)
    ex = LatentExplorer(run, n=300, refresh_interval=1000.0)  # after the first refresh, the next waits 1000 s
    run.start().wait()
    assert ex.wait_idle(30)
    assert ex.map_info["step"] == 40 and ex.session.view.step == 40
    ex.close()


def test_png_fallback_shows_map_output_and_traversal(vae_run):
    ex = LatentExplorer(vae_run, n=300)
    data, _ = ex._repr_mimebundle_()
    png = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert png.width > 600 and png.height > 350
    pixels = np.asarray(png.convert("RGB"), dtype=int)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # coloured points and grey images, not blank
    assert "application/vnd.jupyter.widget-view+json" in data
    ex.close()
