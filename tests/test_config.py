import dataclasses

import pytest

from genwidgets import ConfigError, ModelConfig, param


@dataclasses.dataclass(frozen=True)
class ToyConfig(ModelConfig):
    presets = {"tiny": {"width": 4}}
    width: int = param(64, low=1, high=4096, help="channels")
    lr: float = param(2e-4, low=0.0, high=1.0, editable=True)
    kind: str = param("mlp", choices=("mlp", "conv"))
    hidden: tuple[int, ...] = param((512, 256), low=1)


def test_defaults_and_presets():
    assert ToyConfig().width == 64
    assert ToyConfig.from_dict(preset="tiny").width == 4
    assert ToyConfig.from_dict({"width": 8}, preset="tiny").width == 8


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"width": 0}, "ToyConfig.width=0 is out of range; allowed: 1 <= value <= 4096"),
        ({"width": 1.5}, "ToyConfig.width must be int"),
        ({"width": True}, "ToyConfig.width must be int"),
        ({"kind": "rnn"}, "allowed: one of 'mlp', 'conv'"),
        ({"lr": float("nan")}, "must be finite"),
        ({"hidden": (512, 0)}, "ToyConfig.hidden=(512, 0) is out of range"),
        ({"batch_size": 0}, "ToyConfig.batch_size=0 is out of range"),
    ],
)
def test_bad_values_name_field_and_range(values, needle):
    with pytest.raises(ConfigError) as err:
        ToyConfig.from_dict(values)
    assert needle in str(err.value)


def test_unknown_field_and_preset_are_named():
    with pytest.raises(ConfigError, match=r"no field 'widht'; known fields: .*width"):
        ToyConfig.from_dict({"widht": 3})
    with pytest.raises(ConfigError, match=r"no preset 'huge'; available: tiny"):
        ToyConfig.from_dict(preset="huge")


def test_int_promoted_to_float_and_list_to_tuple():
    cfg = ToyConfig.from_dict({"lr": 1, "hidden": [3, 4]})
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.hidden == (3, 4)
    assert cfg.to_dict()["hidden"] == [3, 4]


def test_replace_validates_and_editable_fields():
    cfg = ToyConfig()
    assert cfg.replace(lr=0.5).lr == 0.5
    with pytest.raises(ConfigError):
        cfg.replace(lr=2.0)
    assert ToyConfig.editable_fields() == ("lr",)
    schema = {f["name"]: f for f in ToyConfig.schema()}
    assert schema["width"]["allowed"] == "1 <= value <= 4096"
    assert schema["lr"]["editable"] is True
