"""Widget snapshots through the plugin's serializer: deterministic subjects, readable, tolerant where it must be.

The first tests pin the LatentExplorer and the DiscriminatorHeatmap with the ``widget_snapshot``
fixture. Their subjects are models built from a seed on one CPU thread and never trained: the
same weights, and the same outputs to the last bit, whatever the machine's core count or load
(a trained model is not: 20 steps on two threads instead of one moved an arrow of the heatmap
from 0.1732 to 0.1733). The rest check the serializer's rules on real widgets and arrays, and
that floats are compared within one unit of their last kept digit, so a value that meets a
rounding boundary on another machine still matches while a real change does not.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from syrupy.extensions.amber import AmberDataSerializer

import genwidgets as gw
from genwidgets.runtime.runtime import Runtime
from genwidgets.testing.images import TolerantPNG, images_match
from genwidgets.testing.snapshots import (
    TIMING,
    TolerantArrayText,
    WidgetCapture,
    WidgetStateExtension,
    WidgetStateSerializer,
    array_decimals,
    array_text,
    capture_widget,
    parse_amber,
    parse_array_text,
    png_bytes,
    round_array,
    round_sig,
    tree_differences,
)
from genwidgets.widgets import DiscriminatorHeatmap, LatentExplorer

pytest_plugins = ["pytester"]


def fixed_model(family: str, data: gw.GenData) -> gw.GenerativeModel:
    """A tiny model built from seed 0 on one CPU thread, not trained: the same outputs on every machine."""
    return gw.build_model(family, data.spec, preset="tiny", runtime=Runtime.create(device="cpu", seed=0, num_threads=1))


@pytest.fixture(scope="module")
def mnist() -> gw.GenData:
    return gw.load_data("mnist")


@pytest.fixture(scope="module")
def vae(mnist: gw.GenData) -> gw.GenerativeModel:
    return fixed_model("vae", mnist)


@pytest.fixture(scope="module")
def gan() -> gw.GenerativeModel:
    return fixed_model("gan", gw.load_data("ring"))


def explorer(vae: gw.GenerativeModel, mnist: gw.GenData, **options: object) -> LatentExplorer:
    return LatentExplorer(vae, mnist, n=48, live=False, **options)


def heatmap(gan: gw.GenerativeModel) -> DiscriminatorHeatmap:
    return DiscriminatorHeatmap(gan, data="ring", resolution=16, arrows=8)


def amber(tree: dict) -> str:
    return AmberDataSerializer.serialize(tree)


# ---- the project's own widget snapshots ---------------------------------------------------------------

def test_latent_explorer_snapshot(vae, mnist, widget_snapshot) -> None:
    ex = explorer(vae, mnist)
    assert ex == widget_snapshot
    ex.close()


def test_discriminator_heatmap_snapshot(gan, widget_snapshot) -> None:
    hm = heatmap(gan)
    assert hm == widget_snapshot
    hm.close()


def test_the_snapshots_hold_whatever_thread_count_the_machine_gives(request: pytest.FixtureRequest) -> None:
    """The case of a fresh clone on another machine: torch's default thread count differs (2 here, not 1)."""
    if request.config.option.update_snapshots:
        pytest.skip("--snapshot-update: the snapshots are written at the end of this session, not compared")
    tests = [f"{__file__}::test_latent_explorer_snapshot", f"{__file__}::test_discriminator_heatmap_snapshot"]
    env = {**os.environ, "GENWIDGETS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *tests], env=env,
                          cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


# ---- the serializer's rules ------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_snapshot_text(vae, mnist) -> None:
    serializer = WidgetStateSerializer()
    texts, file_sets = [], []
    for _ in range(2):
        ex = explorer(vae, mnist)
        tree, files = serializer.normalise(ex)
        texts.append(amber(tree))
        file_sets.append(files)
        ex.close()
    assert texts[0] == texts[1]
    assert file_sets[0].keys() == file_sets[1].keys() == {
        "messages.0.thumbs", "messages.0.points", "messages.1.output", "messages.2.outputs"}
    for key in file_sets[0]:
        np.testing.assert_array_equal(file_sets[0][key], file_sets[1][key])
    # ... and what made it the same was not luck: a different map seed changes it
    other = explorer(vae, mnist, seed=1)
    assert amber(serializer.normalise(other)[0]) != texts[0]
    other.close()


def test_the_same_seed_builds_the_same_model_in_another_process(gan) -> None:
    """The heatmap's subject is fixed: a new process builds the same weights, bit for bit."""
    script = ("import hashlib, torch, genwidgets as gw\n"
              "from genwidgets.runtime.runtime import Runtime\n"
              "m = gw.build_model('gan', gw.load_data('ring').spec, preset='tiny', "
              "runtime=Runtime.create(device='cpu', seed=0, num_threads=1))\n"
              "print(hashlib.sha256(b''.join(v.numpy().tobytes() for v in m.state_dict().values())).hexdigest())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    here = __import__("hashlib").sha256(b"".join(v.numpy().tobytes() for v in gan.state_dict().values()))
    assert done.stdout.strip() == here.hexdigest()


def test_random_ids_and_timing_are_gone_and_the_rules_are_stated(gan) -> None:
    hm = heatmap(gan)
    capture = capture_widget(hm)
    assert capture.state["uid"] and capture.state["layout"].startswith("IPY_MODEL_") and capture.state["_esm"]
    assert capture.state["frame_ms"] > 0
    tree, _ = WidgetStateSerializer().normalise(capture)
    text = amber(tree)
    assert hm.uid not in text and "IPY_MODEL_" not in text and "_model_module_version" not in text
    assert "layout" not in tree["state"] and "_esm" not in tree["state"]
    assert tree["state"]["frame_ms"] == TIMING
    assert "floats to 4 significant digits" in tree["precision"]
    assert "compared within one unit of the last kept digit" in tree["precision"]
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


def test_large_float_arrays_go_to_a_text_file_small_ones_are_listed_and_integers_hashed() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(100, 2)).astype(np.float32)

    def entry(x: np.ndarray, **options: str) -> tuple[dict, dict]:
        tree, files = WidgetStateSerializer(**options).normalise(WidgetCapture("W", {}, [{"op": "m", "points": x}]))
        return tree["messages"][0]["points"], files

    big, files = entry(a)
    assert big == {"array": "float32[100, 2]", "min": big["min"], "max": big["max"], "mean": big["mean"],
                   "txt": "messages.0.points"}
    assert list(files) == ["messages.0.points"] and files["messages.0.points"] is a
    decimals = 3  # 4 significant digits of the largest magnitude, 2.398
    assert np.abs(a).max() == pytest.approx(2.398, abs=1e-3) and array_decimals(a) == decimals
    assert big["min"] == round(float(a.min()), decimals) and big["max"] == round(float(a.max()), decimals)
    assert big["mean"] == round(float(a.astype(np.float64).mean()), decimals)
    text = array_text(a)
    header = "# float32[100, 2]: rounded to 3 decimals (4 significant digits of its largest value)"
    assert text.splitlines()[0] == header
    assert text.splitlines()[1] == " ".join(f"{v:.3f}" for v in round_array(a)[0])
    values, digits = parse_array_text(text)
    np.testing.assert_array_equal(values, round_array(a))
    assert digits == 4
    centred = np.array([1.0, -1.0, 2e-9] * 30)
    assert entry(centred)[0]["mean"] == 0.0  # noise around zero rounds away at the array's precision
    small = entry(np.array([[1.23456, 2.0]], dtype=np.float32))[0]
    assert small == {"array": "float32[1, 2]", "values": [[1.235, 2.0]]}
    assert entry(np.arange(3, dtype=np.int32))[0] == {"array": "int32[3]", "values": [0, 1, 2]}
    integers, files = entry(np.arange(100, dtype=np.int64))
    assert set(integers) == {"array", "min", "max", "mean", "sha256"} and not files  # integers are exact


def test_hash_mode_hashes_large_arrays_at_the_precision() -> None:
    rounded = round_array(np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32))

    def digest(x: np.ndarray) -> str:
        capture = WidgetCapture("W", {}, [{"op": "m", "points": x}])
        return WidgetStateSerializer(arrays="hash").normalise(capture)[0]["messages"][0]["points"]["sha256"]

    assert digest(rounded + 1e-9) == digest(rounded)  # below the precision: the same hash
    changed = rounded.copy()
    changed[3, 1] += 0.01
    assert digest(changed) != digest(rounded)  # one value changed: a different hash
    with pytest.raises(ValueError, match="arrays must be 'file' or 'hash', got 'zip'"):
        WidgetStateSerializer(arrays="zip")


# ---- floats on a rounding boundary -----------------------------------------------------------------------

BOUNDARY = 0.17325  # prints as 0.1732 or 0.1733 at 4 significant digits, depending on the last bits


def boundary_tree(x: float, arrows_x: float) -> str:
    arrows = np.array([[0.6322, arrows_x, 0.004, -0.1655]], dtype=np.float64)
    capture = WidgetCapture("W", {"loss": x, "step": 20}, [{"op": "frame", "arrows": arrows}])
    return amber(WidgetStateSerializer().normalise(capture)[0])


def test_a_float_on_a_rounding_boundary_matches_one_unit_away_but_not_two() -> None:
    below, above = boundary_tree(BOUNDARY - 1e-9, BOUNDARY - 1e-9), boundary_tree(BOUNDARY + 1e-9, BOUNDARY + 1e-9)
    assert "0.1732" in below and "0.1733" in above and below != above  # the texts differ...
    extension = WidgetStateExtension()
    assert extension.matches(serialized_data=above, snapshot_data=below)  # ... the values do not, beyond rounding
    assert extension.differences == []
    two_units = boundary_tree(BOUNDARY + 2.6e-4, BOUNDARY + 2.6e-4)  # 0.17351: 0.1735
    assert not extension.matches(serialized_data=two_units, snapshot_data=below)
    assert extension.differences == [
        "messages.0.arrows.values: 1 of 4 values differ by more than 0.0001, first at [0, 1]: 0.1732 != 0.1735",
        "state.loss: 0.1732 != 0.1735 (more than one unit of the last kept digit)"]
    step = below.replace("'step': 20", "'step': 21")
    assert not extension.matches(serialized_data=step, snapshot_data=below)  # integers are exact
    assert extension.differences == ["state.step: 20 != 21"]


def test_tolerances_follow_the_stated_precision() -> None:
    # an array's unit comes from its largest value: 0.004 next to 0.6322 is kept to 4 decimals, not 4 digits
    assert tree_differences({"array": "float32[2]", "values": [0.6322, 0.004]},
                            {"array": "float32[2]", "values": [0.6322, 0.0041]}) == []
    assert tree_differences({"array": "float32[2]", "values": [0.6322, 0.004]},
                            {"array": "float32[2]", "values": [0.6322, 0.0042]}) != []
    # a largest value that rounds up to the next power of ten (one decimal fewer) still matches
    assert tree_differences({"array": "float32[2]", "values": [0.9999, 0.5]},
                            {"array": "float32[2]", "values": [1.0, 0.5]}) == []
    assert tree_differences(0.09999, 0.1) == [] and tree_differences(3.0, 3) == ["<root>: 3.0 != 3"]
    nonfinite = {"a": [float("nan"), float("inf"), -float("inf")], "b": (1,), "c": "it's"}
    assert parse_amber(AmberDataSerializer.serialize(nonfinite))["a"][1:] == [float("inf"), -float("inf")]
    assert tree_differences(parse_amber(AmberDataSerializer.serialize(nonfinite)), nonfinite) == []
    with pytest.raises(ValueError, match="not an amber snapshot of plain values"):
        parse_amber("Thing(x=1)")


def test_a_large_array_matches_across_a_rounding_boundary_but_not_a_changed_value() -> None:
    a = np.random.default_rng(0).normal(size=(300, 2)).astype(np.float64)
    a[0, 0] = 0.0125  # 3 decimals here (largest value about 3): a boundary
    below, above = array_text(a - 1e-7), array_text(a + 1e-7)
    assert below != above
    txt = TolerantArrayText()
    assert txt.matches(serialized_data=above, snapshot_data=below)
    changed = a.copy()
    changed[7, 1] += 0.003
    assert not txt.matches(serialized_data=array_text(changed), snapshot_data=below)
    assert not txt.matches(serialized_data=array_text(a[:-1]), snapshot_data=below)  # another shape
    assert not txt.matches(serialized_data=above, snapshot_data=None)
    assert not txt.matches(serialized_data=above, snapshot_data="not an array")


POINTS_TEST = """
import numpy as np
from genwidgets.testing.snapshots import WidgetCapture

def test_points(widget_snapshot):
    shift = SHIFT
    points = np.random.default_rng(0).normal(size=(300, 2))
    points[0, 0] = 0.0125 + shift
    assert WidgetCapture("W", {"loss": 0.17325 + shift}, [{"op": "m", "points": points}]) == widget_snapshot
"""


def test_widget_snapshot_keeps_a_stored_snapshot_that_still_matches_and_explains_a_real_change(
        pytester: pytest.Pytester) -> None:
    """End to end: written on one side of a rounding boundary, compared on the other, then really changed."""
    pytester.makepyfile(test_points=POINTS_TEST.replace("SHIFT", "-1e-7"))
    pytester.runpytest_subprocess("--snapshot-update", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    folder = pytester.path / "__snapshots__"
    stored = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert sorted(stored) == ["test_points.ambr", "test_points[W.messages.0.points].txt"]
    assert b"'loss': 0.1732," in stored["test_points.ambr"]

    pytester.makepyfile(test_points=POINTS_TEST.replace("SHIFT", "1e-7"))  # prints 0.1733 and 0.013 now
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["2 snapshots passed."])
    pytester.runpytest_subprocess("--snapshot-update", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == stored  # not rewritten

    pytester.makepyfile(test_points=POINTS_TEST.replace("SHIFT", "3.05e-3"))  # 0.1763 and 0.016
    changed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--snapshot-no-colors")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines([
        "*array messages.0.points (float64[[]300, 2[]]): no text snapshot [[]W.messages.0.points[]], or a value "
        "differs by more than one unit of its last kept decimal",
        "*state values beyond the stated precision:",
        "*state.loss: 0.1732 != 0.1763 (more than one unit of the last kept digit)"])


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


def test_the_extension_alone_hashes_images_and_names_the_widget(gan) -> None:
    hm = heatmap(gan)
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
