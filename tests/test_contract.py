"""The model contract, run over every registered model family (built-in and third party).

One suite for all families: :mod:`genwidgets.testing.contract` holds the checks; this file
parametrises them over ``get_registry().model_names()`` and the data kinds each family
declares, with tiny presets and small real data (digits for images, ring for points).
"""

from __future__ import annotations

import pytest
import torch

import genwidgets
import genwidgets.testing
from genwidgets.errors import CapabilityError
from genwidgets.testing import CHECKS, contract_cases, contract_data, contract_runtime

CASES = contract_cases()



def test_every_registered_model_is_covered():
    names = genwidgets.get_registry().model_names()
    assert names and {name for name, _ in CASES} == set(names)


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize(("model", "kind"), CASES, ids=[f"{m}-{k}" for m, k in CASES])
def test_contract(model, kind, check, tmp_path):
    cls = genwidgets.get_registry().get_model(model)
    CHECKS[check](cls, contract_data(kind), runtime=contract_runtime(), tmp_path=tmp_path)


# ---- the checks catch broken families ----------------------------------------------------------------
# Each family below breaks one rule; the matching check must fail with a message that says which.

def _gan():
    return genwidgets.get_registry().get_model("gan")


def _broken(name, **methods):
    return type(name.title(), (_gan(),), {"name": name, "__doc__": f"A GAN that breaks the contract ({name}).",
                                          **methods})


def _check(check, cls, kind="points", tmp_path=None):
    CHECKS[check](cls, contract_data(kind), runtime=contract_runtime(), tmp_path=tmp_path)


def test_check_outputs_catches_a_wrong_encode_shape():
    cls = _broken("short_codes", encode=lambda self, x, *, labels=None: _gan().encode(self, x)[:, :-1])
    with pytest.raises(AssertionError, match=r"short_codes.encode: shape \(5, 3\), expected \(5, 4\)"):
        _check("outputs", cls)


def test_check_outputs_catches_images_outside_0_1():
    cls = _broken("raw_images", from_model_range=lambda self, y: y * 3)
    with pytest.raises(AssertionError, match=r"raw_images.sample: images must be in \[0, 1\]"):
        _check("outputs", cls, kind="images")


def test_check_train_step_catches_non_finite_metrics():
    def train_step(self, batch):
        return {**_gan().train_step(self, batch), "loss_g": torch.tensor(float("nan"))}

    with pytest.raises(AssertionError, match="nan_loss.train_step: loss_g=nan"):
        _check("train_step", _broken("nan_loss", train_step=train_step))


def test_check_determinism_catches_unseeded_noise():
    def noise(self, n):
        return torch.randn(n, self.latent_dim, generator=torch.Generator().manual_seed(torch.seed()))

    with pytest.raises(AssertionError, match="unseeded: two seeded builds"):
        _check("determinism", _broken("unseeded", noise=noise))


def test_check_editable_catches_an_edit_that_does_not_reach_the_optimizer():
    def apply_config(self, config):
        self.config = config  # forgets the optimizers

    with pytest.raises(AssertionError, match="stale_lr: optimizer 'g' lr is not lr_g"):
        _check("editable", _broken("stale_lr", apply_config=apply_config))


def test_check_explorer_catches_decoded_images_of_the_wrong_size():
    def decode(self, z, *, labels=None):
        return _gan().decode(self, z, labels=labels)[..., :-1, :]  # one row short

    with pytest.raises(AssertionError, match=r"cropped: decoded images for the explorer have shape \(6, 7, 8, 1\)"):
        _check("explorer", _broken("cropped", decode=decode), kind="images")


def test_check_explorer_catches_a_model_that_cannot_be_snapshotted():
    import threading

    def __init__(self, config, *, data_spec, runtime=None):
        _gan().__init__(self, config, data_spec=data_spec, runtime=runtime)
        self.lock = threading.Lock()  # a lock cannot be deep-copied

    with pytest.raises(CapabilityError, match=r"model 'locked' cannot be copied .*lock.*Keep objects"):
        _check("explorer", _broken("locked", __init__=__init__))


def test_check_capabilities_catches_the_wrong_error_type():
    vae = genwidgets.get_registry().get_model("vae")
    cls = type("Plain", (vae,), {"name": "plain_errors", "_missing": lambda self, verb: NotImplementedError(verb)})
    with pytest.raises(AssertionError, match="plain_errors.discriminate raised NotImplementedError"):
        _check("capabilities", cls)


def test_check_checkpoint_catches_state_that_is_not_saved(tmp_path):
    def noise(self, n):
        self.calls = getattr(self, "calls", 0) + 1  # a Python attribute: not in the state_dict
        return torch.randn(n, self.latent_dim, device=self.device) * (1 + 0.1 * self.calls)

    cls = _broken("forgetful", noise=noise)

    class Plugin:
        @genwidgets.hookimpl
        def register_models(self, register):
            register(cls)

    genwidgets.get_registry().add_plugin(Plugin(), name="forgetful-plugin")
    with pytest.raises(AssertionError, match="forgetful: resumed run vs the original"):
        _check("checkpoint", cls, tmp_path=tmp_path)


def test_check_model_runs_every_check_on_every_kind(tmp_path):
    genwidgets.testing.check_model("gan", tmp_path=tmp_path, checks=["class", "outputs"])
    with pytest.raises(AssertionError, match="short_codes.encode"):
        genwidgets.testing.check_model(_broken(
            "short_codes", encode=lambda self, x, *, labels=None: _gan().encode(self, x)[:, :-1]), checks=["outputs"])
