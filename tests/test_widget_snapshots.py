"""Widget snapshots through the plugin's serializer: stable under a seed, readable, images as PNG files.

The first tests pin the LatentExplorer and the DiscriminatorHeatmap (seeded tiny runs) with the
``widget_snapshot`` fixture; the rest check the serializer's rules on real widgets and arrays.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from syrupy.extensions.amber import AmberDataSerializer

import genwidgets as gw
from genwidgets.testing.images import TolerantPNG, images_match
from genwidgets.testing.snapshots import (
    TIMING,
    WidgetCapture,
    WidgetStateExtension,
    WidgetStateSerializer,
    array_decimals,
    capture_widget,
    png_bytes,
    round_array,
    round_sig,
)
from genwidgets.widgets import DiscriminatorHeatmap, LatentExplorer


@pytest.fixture(scope="module")
def vae_run() -> gw.Run:
    run = gw.train("vae", data="mnist", preset="tiny", steps=20, log_every=10, checkpoint_every=None)
    run.wait()
    return run


@pytest.fixture(scope="module")
def gan_run() -> gw.Run:
    run = gw.train("gan", data="ring", preset="tiny", steps=20, log_every=10, checkpoint_every=None)
    run.wait()
    return run


def explorer(run: gw.Run) -> LatentExplorer:
    return LatentExplorer(run, n=48, live=False)


def heatmap(run: gw.Run) -> DiscriminatorHeatmap:
    return DiscriminatorHeatmap(run, resolution=16, arrows=8)


def amber(tree: dict) -> str:
    return AmberDataSerializer.serialize(tree)


# ---- the project's own widget snapshots ---------------------------------------------------------------

def test_latent_explorer_snapshot(vae_run, widget_snapshot) -> None:
    ex = explorer(vae_run)
    assert ex == widget_snapshot
    ex.close()


def test_discriminator_heatmap_snapshot(gan_run, widget_snapshot) -> None:
    hm = heatmap(gan_run)
    assert hm == widget_snapshot
    hm.close()


# ---- the serializer's rules ------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_snapshot_text(vae_run) -> None:
    serializer = WidgetStateSerializer()
    texts, image_sets = [], []
    for _ in range(2):
        ex = explorer(vae_run)
        tree, images = serializer.normalise(ex)
        texts.append(amber(tree))
        image_sets.append(images)
        ex.close()
    assert texts[0] == texts[1]
    assert image_sets[0].keys() == image_sets[1].keys() == {
        "messages.0.thumbs", "messages.1.output", "messages.2.outputs"}
    for key in image_sets[0]:
        np.testing.assert_array_equal(image_sets[0][key], image_sets[1][key])
    # ... and what made it the same was not luck: a different map seed changes it
    other = LatentExplorer(vae_run, n=48, live=False, seed=1)
    assert amber(serializer.normalise(other)[0]) != texts[0]
    other.close()


def test_random_ids_and_timing_are_gone_and_the_rules_are_stated(gan_run) -> None:
    hm = heatmap(gan_run)
    capture = capture_widget(hm)
    assert capture.state["uid"] and capture.state["layout"].startswith("IPY_MODEL_") and capture.state["_esm"]
    assert capture.state["frame_ms"] > 0
    tree, _ = WidgetStateSerializer().normalise(capture)
    text = amber(tree)
    assert hm.uid not in text and "IPY_MODEL_" not in text and "_model_module_version" not in text
    assert "layout" not in tree["state"] and "_esm" not in tree["state"]
    assert tree["state"]["frame_ms"] == TIMING
    assert "floats to 4 significant digits" in tree["precision"]
    assert [m["op"] for m in tree["messages"]] == ["frame"]
    hm.close()


def test_floats_are_rounded_to_the_stated_digits() -> None:
    serializer = WidgetStateSerializer(digits=3)
    tree, _ = serializer.normalise(WidgetCapture("W", {"lr": 0.000123456, "loss": 1.23456789, "big": 98765.4,
                                                       "neg": -0.0, "nested": [{"x": 2 / 3}], "n": 7}))
    assert tree["state"] == {"lr": 0.000123, "loss": 1.23, "big": 98800.0, "neg": 0.0, "nested": [{"x": 0.667}],
                             "n": 7}
    assert "floats to 3 significant digits" in tree["precision"]
    assert round_sig(float("nan")) != round_sig(float("nan"))  # NaN stays NaN
    assert round_sig(float("inf")) == float("inf")


def test_large_arrays_are_hashed_small_ones_listed_and_noise_below_the_precision_is_ignored() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(100, 2)).astype(np.float32)
    serializer = WidgetStateSerializer()

    def entry(x: np.ndarray) -> dict:
        return serializer.normalise(WidgetCapture("W", {}, [{"op": "m", "points": x}]))[0]["messages"][0]["points"]

    big = entry(a)
    assert set(big) == {"array", "min", "max", "mean", "sha256"} and big["array"] == "float32[100, 2]"
    decimals = 3  # 4 significant digits of the largest magnitude, 2.398
    assert np.abs(a).max() == pytest.approx(2.398, abs=1e-3) and array_decimals(a) == decimals
    assert big["min"] == round(float(a.min()), decimals) and big["max"] == round(float(a.max()), decimals)
    assert big["mean"] == round(float(a.astype(np.float64).mean()), decimals)
    rounded = round_array(a)
    assert entry(rounded + 1e-9)["sha256"] == entry(rounded)["sha256"]  # below the precision: the same hash
    changed = rounded.copy()
    changed[3, 1] += 0.01
    assert entry(changed)["sha256"] != entry(rounded)["sha256"]  # one value changed: a different hash
    centred = np.array([1.0, -1.0, 2e-9] * 30)
    assert entry(centred)["mean"] == 0.0  # noise around zero rounds away at the array's precision
    assert entry(np.array([[1.23456, 2.0]], dtype=np.float32)) == {"array": "float32[1, 2]", "values": [[1.235, 2.0]]}
    assert entry(np.arange(3, dtype=np.int32)) == {"array": "int32[3]", "values": [0, 1, 2]}


def test_image_arrays_become_png_files_and_other_uint8_arrays_do_not(tmp_path) -> None:
    grid = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4, 1) * 3
    capture = WidgetCapture("W", {}, [{"op": "samples", "images": grid, "codes": np.zeros(70, np.uint8)}])
    tree, images = WidgetStateSerializer().normalise(capture)
    assert tree["messages"][0]["images"] == {"image": "uint8[5, 4, 4, 1]", "png": "messages.0.images"}
    assert tree["messages"][0]["codes"]["array"] == "uint8[70]"  # 1-D: not an image
    assert list(images) == ["messages.0.images"]
    png = Image.open(io.BytesIO(png_bytes(images["messages.0.images"], columns=2)))
    assert (png.mode, png.size) == ("L", (2 * 4, 3 * 4))  # 5 images tiled 2 wide: 3 rows, the last one padded
    pixels = np.asarray(png)
    np.testing.assert_array_equal(pixels[4:8, 4:8], grid[3, ..., 0])  # image 3: row 1, column 1
    assert not pixels[8:, 4:].any()
    hashed, no_images = WidgetStateSerializer(images="hash").normalise(capture)
    assert not no_images and set(hashed["messages"][0]["images"]) == {"array", "min", "max", "mean", "sha256"}


def test_the_extension_alone_hashes_images_and_names_the_widget(gan_run) -> None:
    hm = heatmap(gan_run)
    text = WidgetStateExtension().serialize(hm)
    assert text.startswith("dict({") and "'widget': 'DiscriminatorHeatmap'" in text and "'op': 'frame'" in text
    assert "'sha256'" in text and "'<timing>'" in text
    hm.close()


def test_tolerant_png_allows_a_few_off_pixels_but_not_a_changed_picture() -> None:
    base = np.full((50, 40, 3), 120, np.uint8)
    few = base.copy()
    few[0, :4] = 250  # 4 of 2000 pixels = 0.2 %
    more = base.copy()
    more[0, :5] = 250
    faint = base + 20  # every pixel, but by less than the threshold
    png = png_bytes
    assert images_match(png(base), png(few)) and images_match(png(base), png(faint))
    assert not images_match(png(base), png(more))
    assert not images_match(png(base), png(base[:, :39]))
    assert TolerantPNG().matches(serialized_data=png(few), snapshot_data=png(base))
    assert not TolerantPNG().matches(serialized_data=png(base), snapshot_data=None)
