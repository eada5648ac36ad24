"""Bad input gets an error that names the problem and the fix; property-based where it fits.

Cases already covered elsewhere are not repeated: wrong rank, object dtype, label counts and
ranges, float images in 0..255 (``test_data.py``); unknown config fields and presets, a handful
of bad values (``test_config.py``); truncated and corrupt checkpoint files (``test_checkpoint_files.py``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import typing
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genwidgets
from genwidgets import CheckpointError, ConfigError, DataError, GenwidgetsError
from genwidgets.config import _base_type
from genwidgets.data.user import from_user
from genwidgets.runtime.checkpoint import FORMAT_VERSION, STATE_FILE, WEIGHTS_FILE

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---- configs -------------------------------------------------------------------------------------------

def _numeric_fields() -> list[tuple[type, dataclasses.Field, type]]:
    """(Config class, field, int or float) for every bounded numeric field of every registered family."""
    out = []
    for name in genwidgets.get_registry().model_names():
        cfg = genwidgets.get_model(name).Config
        hints = typing.get_type_hints(cfg)
        for f in dataclasses.fields(cfg):
            base = _base_type(hints[f.name])
            if base in (int, float) and (f.metadata.get("low") is not None or f.metadata.get("high") is not None):
                out.append((cfg, f, base))
    return out


NUMERIC = _numeric_fields()


@st.composite
def out_of_range(draw):
    cfg, field, base = draw(st.sampled_from(NUMERIC))
    low, high = field.metadata.get("low"), field.metadata.get("high")
    sides = [s for s, bound in (("low", low), ("high", high)) if bound is not None]
    side = draw(st.sampled_from(sides))
    gap = draw(st.integers(1, 10**6)) if base is int else draw(st.floats(1e-6, 1e12))
    value = (low - gap) if side == "low" else (high + gap)
    return cfg, field, base(math.floor(value) if base is int and side == "low" else
                            math.ceil(value) if base is int else value)


@SETTINGS
@given(out_of_range())
def test_out_of_range_config_values_name_the_field_and_the_allowed_range(case):
    """Protects: range checks on every bounded field of every family (and the message naming field and range)."""
    cfg, field, value = case
    with pytest.raises(ConfigError) as err:
        cfg.from_dict({field.name: value})
    message = str(err.value)
    assert f"{cfg.__name__}.{field.name}" in message and "allowed:" in message, message


@SETTINGS
@given(st.sampled_from(NUMERIC),
       st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(), st.integers()),
                 st.booleans(), st.binary(max_size=3)))
def test_wrong_typed_config_values_name_the_field_and_the_expected_type(case, value):
    """Protects: type checks of config values (a string, list, dict, bool or bytes where a number belongs)."""
    cfg, field, base = case
    with pytest.raises(ConfigError) as err:
        cfg.from_dict({field.name: value})
    assert f"{cfg.__name__}.{field.name} must be {base.__name__}, got {value!r}" in str(err.value)


@SETTINGS
@given(st.sampled_from(NUMERIC), st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_config_values_are_refused(case, value):
    """Protects: NaN/inf never reach a model through its config."""
    cfg, field, base = case
    if base is int:
        value = float(value)  # an int field given a float: a type error that names the field
    with pytest.raises(ConfigError, match=rf"{cfg.__name__}\.{field.name}"):
        cfg.from_dict({field.name: value})


# ---- data ----------------------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(1, 40), st.integers(1, 5), st.data())
def test_nan_or_inf_anywhere_in_points_is_refused_with_the_fix(n, d, data):
    """Protects: NaN/inf in user data is caught before training, wherever it sits."""
    x = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, d - 1))
    x[i, j] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with pytest.raises(DataError, match="NaN or infinite values; clean or drop those examples first"):
        from_user(x)


@pytest.mark.parametrize("x", [np.zeros((0, 2)), np.zeros((0, 1, 8, 8)), torch.zeros(0, 3)], ids=["np", "img", "t"])
def test_empty_data(x):
    """Protects: empty arrays are refused up front (not an IndexError in the sampler)."""
    with pytest.raises(DataError, match="data is empty .*expected at least one example"):
        from_user(x)


@pytest.mark.parametrize(("x", "needle"), [
    (np.zeros((4, 2), dtype=complex), "complex dtype"),
    (np.array([["a", "b"], ["c", "d"]]), "expected a numeric array"),
    (np.full((2, 1, 4, 4), -0.5), "float images must lie in [0, 1], got values in [-0.5, -0.5]; rescale them first"),
    (np.zeros((2, 5, 6, 6)), "images must have 1, 3 or 4 channels"),
])
def test_wrong_dtype_range_or_channels(x, needle):
    """Protects: dtype, range and channel checks of user data, each with the fix in the message."""
    with pytest.raises(DataError) as err:
        from_user(x, kind="images" if x.ndim == 4 else None)
    assert needle in str(err.value)


def test_data_of_the_wrong_kind_or_size_for_the_model():
    """Protects: a family refuses data it cannot train on, and a run refuses data unlike the model's."""
    with pytest.raises(DataError, match="model 'dcgan' trains on images data, but the data is points"):
        genwidgets.train("dcgan", data="ring", preset="tiny", start=False)
    model = genwidgets.build_model("vae", genwidgets.load_data("ring").spec, preset="tiny")
    with pytest.raises(ConfigError, match="the model was built for data .* but the data is"):
        genwidgets.train(model, data=np.zeros((10, 3), dtype=np.float32), start=False)


def test_labels_missing_for_a_conditional_model():
    """Protects: a conditional family refuses unlabelled data, saying how to give labels."""
    with pytest.raises(DataError, match="'cgan' is conditional and needs labelled data.*pass labels="):
        genwidgets.train("cgan", data=np.random.rand(20, 2).astype(np.float32), preset="tiny", start=False)


def test_labels_out_of_range_or_of_the_wrong_type_at_sampling():
    """Protects: a conditional model's verbs refuse labels outside its classes or not integers."""
    model = genwidgets.build_model("cgan", genwidgets.load_data("ring").spec, preset="tiny")
    with pytest.raises(DataError, match=r"labels in \[0, 99\], outside the 8 classes \[0, 8\)"):
        model.sample(3, labels=torch.tensor([0, 1, 99]))
    with pytest.raises(DataError, match="expects integer class indices"):
        model.sample(3, labels=torch.tensor([0.5, 1.0, 2.0]))


@pytest.mark.parametrize("family", ["vae", "gan"])
def test_labels_given_to_an_unconditional_model_are_refused(family):
    """Protects: ``sample``/``decode`` of an unconditional family refuse labels= with a DataError saying the
    model is not conditional, instead of silently drawing from every class."""
    model = genwidgets.build_model(family, genwidgets.load_data("ring").spec, preset="tiny")
    with pytest.raises(DataError, match="is not conditional"):
        model.sample(3, labels=torch.tensor([0, 1, 2]))
    with pytest.raises(DataError, match="is not conditional"):
        model.decode(torch.zeros(3, model.latent_dim), labels=torch.tensor([0, 1, 2]))


# ---- checkpoints ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good")
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=3, out=out, start=False, checkpoint_every=None)
    run.step(3)
    return run.save()


def _copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


def _edit_state(path: Path, **changes) -> None:
    state = json.loads((path / STATE_FILE).read_text())
    for key, value in changes.items():
        if value is ...:
            state.pop(key)
        else:
            state[key] = value
    (path / STATE_FILE).write_text(json.dumps(state))


def test_a_checkpoint_from_another_model_family_is_named(good_checkpoint, tmp_path):
    """Protects: weights of one family under another family's name give a CheckpointError saying so, not a
    torch RuntimeError about missing keys."""
    path = _copy(good_checkpoint, tmp_path / "ck")
    _edit_state(path, model="gan", config=genwidgets.get_model("gan").Config.from_dict(preset="tiny").to_dict())
    for load in (genwidgets.load_model, lambda p: genwidgets.resume(p, start=False)):
        with pytest.raises(CheckpointError, match="does not fit model 'gan' .* another model family or version"):
            load(path)


def test_a_checkpoint_from_another_version(good_checkpoint, tmp_path):
    """Protects: a checkpoint of an unknown format version is refused by name, with what this version reads."""
    path = _copy(good_checkpoint, tmp_path / "ck")
    _edit_state(path, format=FORMAT_VERSION + 1)
    with pytest.raises(CheckpointError, match=rf"has format {FORMAT_VERSION + 1}; this genwidgets reads format "
                                              rf"{FORMAT_VERSION}.*upgrade genwidgets"):
        genwidgets.load_model(path)


def test_a_checkpoint_of_a_model_that_is_not_installed(good_checkpoint, tmp_path):
    """Protects: a checkpoint naming a family nobody registered says which plugin to install."""
    path = _copy(good_checkpoint, tmp_path / "ck")
    _edit_state(path, model="fancy_flow", plugin="genwidgets-fancy")
    with pytest.raises(genwidgets.PluginError,
                       match="needs model 'fancy_flow' from plugin 'genwidgets-fancy', which is not installed"):
        genwidgets.load_model(path)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                       max_size=3), max_leaves=6)


@SETTINGS
@given(st.sampled_from(["model", "config", "data", "optimizers", "rng", "sampler", "run", "step", "history"]),
       st.one_of(st.just(...), JSON_VALUES))
def test_a_damaged_state_file_gives_a_checkpoint_error_never_a_crash(good_checkpoint, tmp_path, key, value):
    """Protects: any key of state.json missing or replaced by any JSON value yields a genwidgets error
    (naming the file or the field), never a bare KeyError/TypeError from deep inside."""
    path = _copy(good_checkpoint, tmp_path / "ck")
    _edit_state(path, **{key: value})
    for load in (genwidgets.load_model, lambda p: genwidgets.resume(p, start=False)):
        try:
            load(path)
        except GenwidgetsError as exc:
            assert str(exc)
        # loading may also succeed: not every key matters to every loader


@SETTINGS
@given(st.sampled_from([STATE_FILE, WEIGHTS_FILE]), st.floats(0.0, 0.999), st.integers(0, 255))
def test_any_truncation_or_byte_flip_gives_a_checkpoint_error(good_checkpoint, tmp_path, name, where, byte):
    """Protects: a checkpoint damaged anywhere is refused with a CheckpointError naming the file (the
    checksum catches flips in the weights); it never loads silently wrong or crashes."""
    path = _copy(good_checkpoint, tmp_path / "ck")
    data = bytearray((path / name).read_bytes())
    cut = int(where * len(data))
    if byte % 2:
        data = data[:cut]
    else:
        data[cut] ^= 1 + byte // 2
    (path / name).write_bytes(bytes(data))
    try:
        genwidgets.load_model(path)
    except GenwidgetsError as exc:
        assert name in str(exc) or "state.json" in str(exc) or "checkpoint" in str(exc), str(exc)
    else:  # only a harmless change to state.json's JSON can load (e.g. a flipped space)
        assert name == STATE_FILE
