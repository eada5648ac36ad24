"""Hostile or broken input is refused with one line naming the limit and the fix, before any big allocation.

Covers: class counts inferred from labels (a cGAN sizes a table per class), image files and
folders too large to decode, a folder named like a built-in data set, and a checkpoint's
``state.json`` that is huge, deeply nested or carries impossible counts. Everything is real:
PNG/JPEG files written to ``tmp_path``, checkpoints written by a real training run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import genwidgets
from genwidgets import CheckpointError, DataError
from genwidgets.bounds import json_depth
from genwidgets.data.base import MAX_INFERRED_CLASSES, DataSpec
from genwidgets.data.folder import ENV_MAX_DATA_BYTES, ENV_MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS
from genwidgets.data.resolve import DataNameShadowWarning, data_set_name
from genwidgets.data.user import from_user
from genwidgets.runtime.checkpoint import STATE_FILE
from genwidgets.runtime.checkpoint_state import (
    ENV_MAX_STATE_BYTES,
    MAX_STATE_BYTES,
    MAX_STATE_DEPTH,
    load_state_json,
    validate_state,
)

# ---- 1. class counts --------------------------------------------------------------------------------


def _points(n: int = 50) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)


def test_labels_that_are_ids_are_refused_before_a_cgan_is_built():
    """Protects: labels up to 10^9 (ids, not class indices) made cgan allocate a 10^9-row embedding (16 GB);
    now the data is refused naming the largest label and both fixes."""
    labels = np.arange(50, dtype=np.int64) * 20_000_000  # up to 980,000,000
    with pytest.raises(DataError, match=r"labels go up to 980,000,000, which would mean 980,000,001 classes for "
                                        r"50 examples .*10,000.*remap them.*or pass num_classes="):
        genwidgets.train("cgan", data=_points(), labels=labels, preset="tiny", steps=1, start=False)


def test_the_inferred_class_cap_holds_for_datasets_too():
    """Protects: a torch Dataset whose labels imply too many classes is refused the same way."""

    class Ids(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int):
            return torch.zeros(2), i * 10**9

    with pytest.raises(DataError, match="labels go up to 3,000,000,000"):
        from_user(Ids())


def test_an_explicit_num_classes_goes_above_the_inferred_cap():
    """Protects: the cap is on inference only; a user who says how many classes there are gets them."""
    labels = np.array([0, MAX_INFERRED_CLASSES + 5])
    data = from_user(_points(2), labels=labels, num_classes=MAX_INFERRED_CLASSES + 6)
    assert data.spec.num_classes == MAX_INFERRED_CLASSES + 6


def test_labels_beyond_an_explicit_num_classes_are_refused_for_a_dataset():
    """Protects: a Dataset with labels= past num_classes= was accepted and failed later inside the model."""

    class Unlabelled(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> torch.Tensor:
            return torch.zeros(2)

    with pytest.raises(DataError, match=r"label 7 is out of range for num_classes=3"):
        from_user(Unlabelled(), labels=[0, 1, 7], num_classes=3)


def test_cgan_refuses_a_class_count_no_data_set_has():
    """Protects: a spec with 10^9 classes (built by hand, or from a doctored checkpoint) made cgan allocate
    two 10^9-row embeddings."""
    with pytest.raises(DataError, match=r"cgan's data_spec.num_classes is 1,000,000,000, above genwidgets' limit "
                                        r"of 1,000,000 classes"):
        genwidgets.build_model("cgan", DataSpec("points", (2,), 10**9), preset="tiny")


# ---- 2. image files and folders -----------------------------------------------------------------------


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _bilevel_png(path: Path, width: int, height: int) -> Path:
    """A black 1-bit PNG written row by row: a few KB on disk, width x height pixels once decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b""))
    return path


def _png(path: Path, size: tuple[int, int], mode: str = "L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, 128 if mode == "L" else (200, 10, 10)).save(path)
    return path


def test_a_huge_image_is_refused_from_its_header_before_decoding(tmp_path):
    """Protects: a 12,000 x 12,000 PNG (under Pillow's own bomb limit) was decoded whole, with float copies
    of it (GBs); now it is refused naming the file, the limit and how to raise it."""
    big = _bilevel_png(tmp_path / "imgs" / "huge.png", 12_000, 12_000)
    _png(tmp_path / "imgs" / "small.png", (16, 16))
    assert big.stat().st_size < 100_000
    for image_size in (None, 32):  # a PNG cannot be decoded at a reduced scale, so image_size does not help
        with pytest.raises(DataError, match=rf"huge.png' is 12000 x 12000 = 144,000,000 pixels, above the limit of "
                                            rf"{MAX_IMAGE_PIXELS:,} pixels per image; .*max_image_pixels= .*"
                                            rf"{ENV_MAX_IMAGE_PIXELS}"):
            from_user(tmp_path / "imgs", image_size=image_size)


def test_the_pixel_limit_can_be_raised_by_parameter_or_environment(tmp_path, monkeypatch):
    """Protects: the per-image limit is a documented default, not a wall: max_image_pixels= and the
    environment variable both move it (and a bad value of the variable is named)."""
    _png(tmp_path / "imgs" / "a.png", (40, 30))
    with pytest.raises(DataError, match=r"a.png' is 40 x 30 = 1,200 pixels, above the limit of 1,000"):
        from_user(tmp_path / "imgs", max_image_pixels=1000)
    assert from_user(tmp_path / "imgs", max_image_pixels=1200).spec.shape == (1, 30, 40)
    monkeypatch.setenv(ENV_MAX_IMAGE_PIXELS, "1000")
    with pytest.raises(DataError, match="above the limit of 1,000 pixels"):
        from_user(tmp_path / "imgs")
    monkeypatch.setenv(ENV_MAX_IMAGE_PIXELS, "lots")
    with pytest.raises(DataError, match=rf"environment variable {ENV_MAX_IMAGE_PIXELS}='lots' is not a positive"):
        from_user(tmp_path / "imgs")


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_when_image_size_is_given(tmp_path):
    """Protects: a camera-sized JPEG over the pixel limit still loads when image_size= is given, because
    the decoder reduces it first (only the reduced size is decoded); without image_size it is refused."""
    path = tmp_path / "photos" / "photo.jpg"
    path.parent.mkdir()
    Image.new("L", (5000, 4000), 90).save(path, quality=50)
    assert MAX_IMAGE_PIXELS < 5000 * 4000
    data = from_user(tmp_path / "photos", image_size=64)
    assert data.spec.shape == (1, 64, 64)
    with pytest.raises(DataError, match=r"photo.jpg' is 5000 x 4000"):
        from_user(tmp_path / "photos")


def test_a_folder_too_big_once_decoded_is_refused_before_stacking(tmp_path, monkeypatch):
    """Protects: many images (each under the pixel limit) were stacked into float32 without bound; now the
    folder's decoded size is checked first, naming the folder, the limit and the ways out."""
    for i in range(3):
        _png(tmp_path / "imgs" / f"{i}.png", (64, 64))
    grey_bytes = 3 * 64 * 64 * 4
    with pytest.raises(DataError, match=rf"imgs' holds 3 images of 64 x 64 x 1 values: .*above the limit.*smaller "
                                        rf"image_size=.*max_data_bytes= .*{ENV_MAX_DATA_BYTES}"):
        from_user(tmp_path / "imgs", max_data_bytes=grey_bytes - 1)
    assert from_user(tmp_path / "imgs", image_size=32, max_data_bytes=grey_bytes - 1).spec.shape == (1, 32, 32)
    _png(tmp_path / "imgs" / "3.png", (64, 64), mode="RGB")  # one colour image makes every image RGB
    monkeypatch.setenv(ENV_MAX_DATA_BYTES, str(4 * 64 * 64 * 4))
    with pytest.raises(DataError, match=r"holds 4 images of 64 x 64 x 3 values"):
        from_user(tmp_path / "imgs")


# ---- 3. a folder named like a built-in data set -----------------------------------------------------------


@pytest.fixture
def ring_folder(tmp_path, monkeypatch) -> Path:
    """A folder of images called ``ring`` in the working directory, beside the built-in ``ring`` data set."""
    for i in range(2):
        _png(tmp_path / "ring" / f"{i}.png", (8, 8))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "ring"


def test_a_registered_name_means_the_data_set_even_beside_a_folder_of_that_name(ring_folder):
    """Protects: a folder ``ring`` in the working directory silently replaced the built-in ``ring`` data set;
    now the name means the data set, with a warning that says how to pick the folder."""
    with pytest.warns(DataNameShadowWarning, match=r"data='ring' means the registered data set 'ring'.*"
                                                   r"pass data='./ring' \(or a pathlib.Path\)"):
        data = genwidgets.load_data("ring")
    assert data.spec.kind == "points" and data.spec.shape == (2,)


def test_a_folder_named_like_a_data_set_is_taken_when_written_as_a_path(ring_folder):
    """Protects: the documented way to the folder (``./ring`` or a Path) reads the folder, without warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for spelled in ("./ring", Path("ring"), str(ring_folder)):
            data = genwidgets.load_data(spelled)
            assert data.spec.kind == "images" and len(data) == 2, spelled


def test_the_data_name_rule(ring_folder):
    """Protects: the rule itself: registered names first, then anything path-like or existing is a path,
    and anything else is a name (so a typo gets the registry's list of names)."""
    with pytest.warns(DataNameShadowWarning):
        assert data_set_name("ring") == "ring"
    assert data_set_name("./ring") is None and data_set_name(Path("ring")) is None
    assert data_set_name("data/faces") is None  # a path, even though it does not exist: the folder error names it
    assert data_set_name("rign") == "rign"  # a typo of a name: the registry lists the known ones
    assert data_set_name(np.zeros(3)) is None
    with pytest.raises(genwidgets.PluginError, match="no dataset named 'rign'; registered datasets: .*ring"):
        genwidgets.load_data("rign")


# ---- 4. a checkpoint's state.json ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint written by a real (two-step) training run."""
    out = tmp_path_factory.mktemp("bounds")
    run = genwidgets.train("gan", data="ring", preset="tiny", steps=2, out=out / "run", start=False,
                           checkpoint_every=None)
    run.step(2)
    return run.save()


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _edit(path: Path, edit) -> Path:
    state = json.loads((path / STATE_FILE).read_text())
    edit(state)
    (path / STATE_FILE).write_text(json.dumps(state))
    return path


def test_a_real_state_file_reads_and_validates(real_checkpoint):
    """Protects: the bounds never refuse what genwidgets writes (its nesting is far below the cap)."""
    path = real_checkpoint / STATE_FILE
    state = load_state_json(path)
    assert state == json.loads(path.read_text())
    assert json_depth(path.read_bytes()) <= 8 < MAX_STATE_DEPTH
    validate_state(state, path)


def test_deeply_nested_state_json_is_refused_before_parsing(real_checkpoint, tmp_path):
    """Protects: a state.json nested 100,001 levels deep raised RecursionError out of gw.load_model; now
    it is a CheckpointError naming the file and the depth."""
    path = _copy(real_checkpoint, tmp_path / "ck")
    text = (path / STATE_FILE).read_text().rstrip()
    (path / STATE_FILE).write_text(text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    match = rf"{STATE_FILE} nests JSON 100,001 levels deep, more than the {MAX_STATE_DEPTH} genwidgets reads"
    with pytest.raises(CheckpointError, match=match):
        load_state_json(path / STATE_FILE)
    with pytest.raises(CheckpointError, match=match):
        genwidgets.load_model(path)


def test_json_depth_ignores_brackets_in_strings_and_escaped_quotes():
    """Protects: the nesting check counts structure, not text: brackets and escaped quotes inside strings."""
    assert json_depth(b'{"a": "[[[[{{", "b": ["\\"]]]", ["x\\\\"]]}') == 3
    assert json_depth(json.dumps({"k": "\\" * 7 + '"[' * 50}).encode()) == 1
    assert json_depth(b"") == 0 and json_depth(b"[" * 70) == 70


def test_an_oversized_state_json_is_refused_without_reading_it(real_checkpoint, tmp_path, monkeypatch):
    """Protects: a 200 MB state.json was read whole; now its size is checked first (the file here is
    sparse: reading it would take 200 MB), and the message says how to raise the limit."""
    path = _copy(real_checkpoint, tmp_path / "ck")
    os.truncate(path / STATE_FILE, 200 * 2**20)
    with pytest.raises(CheckpointError, match=rf"{STATE_FILE} is 209,715,200 bytes, more than the "
                                              rf"{MAX_STATE_BYTES:,} bytes .*{ENV_MAX_STATE_BYTES}"):
        genwidgets.load_model(path)
    small = real_checkpoint / STATE_FILE
    monkeypatch.setenv(ENV_MAX_STATE_BYTES, "100")
    with pytest.raises(CheckpointError, match=r"more than the 100 bytes"):
        load_state_json(small)
    monkeypatch.setenv(ENV_MAX_STATE_BYTES, str(small.stat().st_size))
    assert load_state_json(small)["step"] == 2


@pytest.mark.parametrize("step", [-5, 2.5, True, "2", None])
def test_an_impossible_step_is_refused(real_checkpoint, tmp_path, step):
    """Protects: a negative or non-integer step was accepted: gw.resume counted from -5 (or 2.5 -> 2)."""
    path = _edit(_copy(real_checkpoint, tmp_path / "ck"), lambda s: s.__setitem__("step", step))
    with pytest.raises(CheckpointError, match=re.escape(f"{STATE_FILE}: field 'step' is {step!r}; expected an "
                                                       "integer >= 0")):
        validate_state(load_state_json(path / STATE_FILE), path / STATE_FILE)
    with pytest.raises(CheckpointError, match="field 'step'"):
        genwidgets.resume(path, out=tmp_path / "resumed", start=False)


@pytest.mark.parametrize(("shape", "why"), [
    ([-2], "expected a list of positive integers"),
    ([2.5], "expected a list of positive integers"),
    ([0], "expected a list of positive integers"),
    ("2", "expected a list of positive integers"),
    ([100_000, 100_000], "has more than 67,108,864 values per example"),
])
def test_an_impossible_data_shape_is_refused(real_checkpoint, tmp_path, shape, why):
    """Protects: a negative dimension in the data spec reached torch (RuntimeError: negative dimension) in
    gw.load_model and was accepted by gw.resume; a huge one would size a model without bound."""
    path = _edit(_copy(real_checkpoint, tmp_path / "ck"), lambda s: s["data"]["spec"].__setitem__("shape", shape))
    with pytest.raises(CheckpointError, match=rf"{STATE_FILE}: field 'data.spec': data spec field 'shape' .*{why}"):
        validate_state(load_state_json(path / STATE_FILE), path / STATE_FILE)
    with pytest.raises(CheckpointError, match="field 'data.spec'"):
        genwidgets.load_model(path)


def test_data_spec_from_dict_checks_every_field():
    """Protects: every reader of a saved spec gets the checks, not only read_checkpoint's callers."""
    assert DataSpec.from_dict({"kind": "images", "shape": [1, 8, 8], "num_classes": 10}) == DataSpec(
        "images", (1, 8, 8), 10)
    for bad, needle in [({"kind": "audio", "shape": [2]}, "field 'kind' is 'audio'"),
                        ({"kind": "points", "shape": [2], "num_classes": 10**9}, "limit of 1,000,000 classes"),
                        ({"kind": "points", "shape": [2], "num_classes": -1}, "expected a positive integer"),
                        ({"kind": "points", "shape": [True]}, "positive integers"),
                        ([1, 2], "must be a mapping")]:
        with pytest.raises(DataError, match=needle):
            DataSpec.from_dict(bad)  # type: ignore[arg-type]
