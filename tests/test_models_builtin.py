"""Tests of the built-in model families (genwidgets_models): DCGAN and VAE, tiny presets.

Registration, the entry module's lazy imports and bf16 autocast are tested once for every family,
these two included, in tests/test_models_zoo.py.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from genwidgets.data.base import Batch, DataSpec
from genwidgets.errors import CapabilityError, ConfigError, DataError
from genwidgets.model import check_model_class
from genwidgets.runtime.runtime import Runtime
from genwidgets_models.conv import (
    BurgessDecoder,
    BurgessEncoder,
    ConvDecoder,
    ConvEncoder,
    conv_plan,
    supported_sizes,
)
from genwidgets_models.dcgan import DCGAN, DCGANConfig
from genwidgets_models.vae import VAE, VAEConfig

#: One CPU runtime for every model here. Built directly (not with Runtime.create), so building a
#: model neither reseeds the global RNG nor changes torch's thread count.
CPU = Runtime(device=torch.device("cpu"), num_threads=1)



@pytest.fixture
def runtime() -> Runtime:
    return CPU


def images(n: int, size: int = 28, channels: int = 1, *, seed: int = 0) -> torch.Tensor:
    """Random images in [0, 1], shaped (n, channels, size, size)."""
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed))


def patterns(n: int, size: int = 28, *, kinds: int = 4, seed: int = 0) -> torch.Tensor:
    """Structured binary images: ``kinds`` random templates, repeated (something learnable)."""
    gen = torch.Generator().manual_seed(seed)
    templates = (torch.rand(kinds, 1, size, size, generator=gen) > 0.7).float()
    return templates[torch.arange(n) % kinds]


def spec(size: int = 28, channels: int = 1) -> DataSpec:
    return DataSpec(kind="images", shape=(channels, size, size))


def dcgan(size: int = 28, channels: int = 1, runtime: Runtime = CPU, **overrides) -> DCGAN:
    config = DCGANConfig.from_dict(overrides, preset="tiny")
    return DCGAN(config, data_spec=spec(size, channels), runtime=runtime)


def vae(data_spec: DataSpec | None = None, runtime: Runtime = CPU, **overrides) -> VAE:
    config = VAEConfig.from_dict(overrides, preset="tiny")
    return VAE(config, data_spec=data_spec or spec(), runtime=runtime)


# ---- registration and class contract ------------------------------------------------------------

def test_classes_pass_the_registry_check():
    assert check_model_class(DCGAN) == []
    assert check_model_class(VAE) == []


def test_class_attributes():
    assert DCGAN.name == "dcgan" and "Radford" in DCGAN.paper
    assert DCGAN.capabilities.names() == ["sample", "encode", "decode", "discriminate"]
    assert DCGAN.data_kinds == ("images",)
    assert VAE.name == "vae" and "Kingma" in VAE.paper
    assert VAE.capabilities.names() == ["sample", "encode", "decode"]
    assert set(DCGANConfig.editable_fields()) == {"lr_g", "lr_d", "d_steps"}
    assert VAEConfig.editable_fields() == ("lr",)


# ---- the size plan ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("size", "start", "layers"), [(8, 4, 1), (28, 7, 2), (32, 4, 3), (64, 4, 4), (48, 6, 3)]
)
def test_conv_plan(size, start, layers):
    plan = conv_plan(size)
    assert (plan.start, plan.layers) == (start, layers)


@pytest.mark.parametrize("size", [4, 7, 30, 15, 9, 512])
def test_conv_plan_rejects_unsupported_sizes(size):
    with pytest.raises(DataError, match=rf"got {size} px") as info:
        conv_plan(size)
    assert "28" in str(info.value) and "64" in str(info.value)
    assert size not in supported_sizes()


def test_burgess_stack_is_the_papers_network_at_64_px():
    encoder, decoder = BurgessEncoder(1, 64, out_features=20), BurgessDecoder(10, 1, 64)
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (1, 32, (4, 4), (2, 2))] + [(32, 32, (4, 4), (2, 2))] * 3
    linears = [(m.in_features, m.out_features) for m in encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert linears == [(512, 256), (256, 256), (256, 20)]
    assert [(m.in_features, m.out_features) for m in decoder.modules() if isinstance(m, torch.nn.Linear)] == [
        (10, 256), (256, 256), (256, 512)]
    deconvs = [(m.in_channels, m.out_channels) for m in decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert deconvs == [(32, 32)] * 3 + [(32, 1)]
    assert not any(isinstance(m, torch.nn.BatchNorm2d | torch.nn.GroupNorm) for m in [*encoder.modules(),
                                                                                      *decoder.modules()])
    # No normalisation: an example's code is the same alone or in a batch.
    x = torch.rand(6, 1, 64, 64)
    assert torch.allclose(encoder(x)[:1], encoder(x[:1]), atol=1e-5)
    assert decoder(torch.randn(3, 10)).shape == (3, 1, 64, 64)


@pytest.mark.parametrize("size", [8, 28, 32, 64])
def test_conv_stacks_round_trip_shapes(size):
    decoder = ConvDecoder(nz=5, out_channels=3, size=size, width=4)
    encoder = ConvEncoder(3, size, 4, out_features=7)
    x = decoder(torch.randn(2, 5))
    assert x.shape == (2, 3, size, size)
    assert encoder(x).shape == (2, 7)
    assert ConvEncoder(3, size, 4, 1, norm="layer")(x).shape == (2, 1)


def test_dcgan_28px_uses_the_mnist_layout():
    model = DCGAN(DCGANConfig(), data_spec=spec(28), runtime=None)  # the base makes a CPU runtime
    assert model.device == torch.device("cpu")
    convs = [m for m in model.generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(100, 128), (128, 64), (64, 1)]
    assert convs[0].kernel_size == (7, 7)


# ---- construction, shapes and ranges ------------------------------------------------------------

@pytest.mark.parametrize("size", [8, 28, 32, 64])
def test_dcgan_shapes_and_ranges(size, runtime):
    model = dcgan(size, channels=3 if size == 32 else 1, runtime=runtime)
    c = model.data_spec.shape[0]
    out = model.sample(5)
    assert out.shape == (5, c, size, size) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1
    z = torch.randn(4, model.latent_dim)
    assert model.decode(z).shape == (4, c, size, size)
    assert model.sample(99, z=z).shape == (4, c, size, size)
    p = model.discriminate(images(6, size, c))
    assert p.shape == (6,) and ((p > 0) & (p < 1)).all()
    grid = model.preview()
    assert grid.shape == (64, c, size, size) and model.training


@pytest.mark.parametrize("architecture", ["conv", "burgess"])
@pytest.mark.parametrize("size", [8, 28, 32, 64])
def test_conv_vae_shapes_and_ranges(size, architecture, runtime):
    model = vae(spec(size), runtime=runtime, architecture=architecture)
    x = images(5, size)
    z = model.encode(x)
    assert z.shape == (5, 2) and not z.requires_grad
    assert model.decode(z).shape == (5, 1, size, size)
    out = model.sample(3)
    assert out.shape == (3, 1, size, size) and out.min() >= 0 and out.max() <= 1
    assert model.reconstruct(x).shape == x.shape


def test_mlp_vae_on_images_and_points(runtime):
    model = vae(runtime=runtime)
    assert model.likelihood == "bernoulli"
    assert model.encode(images(4)).shape == (4, 2)
    assert model.preview().shape == (64, 1, 28, 28)

    points = vae(DataSpec("points", (2,)), runtime=runtime)
    assert points.likelihood == "gaussian"
    assert points.encode(torch.randn(7, 2)).shape == (7, 2)
    assert points.sample(9).shape == (9, 2)
    assert points.decode(torch.zeros(1, 2)).shape == (1, 2)


@pytest.mark.parametrize("size", [30, 100])
def test_unsupported_image_sizes_raise_data_error(size):
    with pytest.raises(DataError, match=r"28, 32"):
        dcgan(size)
    with pytest.raises(DataError, match=r"28, 32"):
        vae(spec(size), architecture="conv")
    with pytest.raises(DataError, match=r"28, 32"):
        vae(spec(size), architecture="burgess")
    assert vae(spec(size)).sample(2).shape == (2, 1, size, size)  # MLP works at any size


def test_non_square_images_raise_data_error():
    with pytest.raises(DataError, match="square"):
        DCGAN(DCGANConfig.from_dict(preset="tiny"), data_spec=DataSpec("images", (1, 28, 32)), runtime=CPU)


def test_dcgan_rejects_points():
    with pytest.raises(DataError, match="dcgan"):
        DCGAN(DCGANConfig.from_dict(preset="tiny"), data_spec=DataSpec("points", (2,)), runtime=CPU)


def test_verbs_check_input_shapes():
    model = dcgan(28)
    with pytest.raises(DataError, match=r"\(N, 1, 28, 28\)"):
        model.discriminate(images(2, 32))
    with pytest.raises(DataError, match=r"\(N, 8\)"):
        model.decode(torch.randn(2, 3))
    with pytest.raises(DataError, match=r"\(N, 2\)"):
        vae().decode(torch.randn(2, 5))


# ---- capabilities -------------------------------------------------------------------------------

def test_missing_verbs_raise_capability_error():
    with pytest.raises(CapabilityError, match=r"'vae'.*'can_discriminate'"):
        vae().discriminate(images(2))


# ---- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize(("cls", "field", "value"), [
    (DCGANConfig, "lr_g", -1.0),
    (DCGANConfig, "d_steps", 0),
    (DCGANConfig, "latent_dim", 0),
    (DCGANConfig, "beta1", 1.5),
    (VAEConfig, "likelihood", "poisson"),
    (VAEConfig, "architecture", "transformer"),
    (VAEConfig, "hidden", (32, 0)),
    (VAEConfig, "latent_dim", 0),
    (VAEConfig, "lr", "fast"),
])
def test_bad_config_values_name_the_field(cls, field, value):
    with pytest.raises(ConfigError, match=field):
        cls.from_dict({field: value})


def test_config_defaults_follow_the_papers():
    c = DCGANConfig()
    got = (c.latent_dim, c.g_width, c.d_width, c.lr_g, c.lr_d, c.beta1, c.beta2, c.d_steps, c.batch_size)
    assert got == (100, 64, 64, 2e-4, 2e-4, 0.5, 0.999, 1, 64)
    v = VAEConfig()
    assert (v.latent_dim, v.architecture, v.hidden, v.width, v.likelihood, v.lr, v.batch_size) == (
        16, "mlp", (512, 256), 32, "auto", 1e-3, 128)


def test_data_dependent_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="architecture"):
        vae(DataSpec("points", (2,)), architecture="conv")
    with pytest.raises(ConfigError, match="architecture='burgess' needs image data"):
        vae(DataSpec("points", (2,)), architecture="burgess")
    with pytest.raises(ConfigError, match="likelihood"):
        vae(DataSpec("points", (2,)), likelihood="bernoulli")


def test_gaussian_likelihood_on_images_has_a_learned_variance():
    model = vae(likelihood="gaussian")
    assert model.output_log_var is not None and model.output_log_var.shape == (1, 28, 28)
    assert any(p is model.output_log_var for p in model.optimizers["model"].param_groups[0]["params"])
    out = model.sample(3)
    assert out.min() >= 0 and out.max() <= 1


def test_apply_config_updates_learning_rates():
    model = dcgan()
    model.apply_config(model.config.replace(lr_g=1e-3, lr_d=5e-5, d_steps=2))
    assert model.optimizers["g"].param_groups[0]["lr"] == 1e-3
    assert model.optimizers["d"].param_groups[0]["lr"] == 5e-5
    assert model.config.d_steps == 2

    v = vae()
    v.apply_config(v.config.replace(lr=3e-4))
    assert v.optimizers["model"].param_groups[0]["lr"] == 3e-4


# ---- determinism --------------------------------------------------------------------------------

def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("build", [dcgan, vae, lambda **kw: vae(architecture="conv", **kw),
                                   lambda **kw: vae(architecture="burgess", **kw)])
def test_same_seed_same_weights_and_global_rng_untouched(build):
    torch.rand(3)  # move the global generator away from any freshly seeded state
    before = torch.get_rng_state()
    a, b, c = build(), build(), build(seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    assert _same_weights(a, b)
    assert not _same_weights(a, c)


@pytest.mark.parametrize("build", [dcgan, vae])
def test_training_is_reproducible_from_the_global_rng(build):
    x = patterns(16)
    runs = []
    for _ in range(2):
        model = build()
        torch.manual_seed(123)
        runs.append([model.train_step(Batch(x)) for _ in range(3)])
    for m1, m2 in zip(*runs, strict=True):
        assert m1.keys() == m2.keys()
        assert all(torch.equal(m1[k], m2[k]) for k in m1)


# ---- training -----------------------------------------------------------------------------------

def _assert_metrics(metrics: dict, names: set[str]) -> None:
    assert set(metrics) == names
    for name, value in metrics.items():
        assert isinstance(value, torch.Tensor) and value.dim() == 0, name
        assert not value.requires_grad and torch.isfinite(value), name


def test_dcgan_train_step_metrics(runtime):
    model = dcgan(runtime=runtime)
    metrics = model.train_step(Batch(images(16)))
    _assert_metrics(metrics, {"loss_d", "loss_g", "d_real", "d_fake"})
    assert 0 < metrics["d_real"] < 1 and 0 < metrics["d_fake"] < 1


def test_dcgan_d_steps_controls_discriminator_updates():
    model = dcgan(d_steps=3)
    model.train_step(Batch(images(8)))
    assert model.optimizers["d"].state[next(iter(model.discriminator.parameters()))]["step"] == 3
    assert model.optimizers["g"].state[next(iter(model.generator.parameters()))]["step"] == 1


def test_dcgan_discriminator_learns_to_separate_real_from_fake():
    torch.manual_seed(0)
    model = dcgan(lr_g=0.0, lr_d=1e-3)  # only D learns
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    real = patterns(16)
    for _ in range(40):
        metrics = model.train_step(Batch(real))
    assert metrics["d_real"] > 0.9 and metrics["d_fake"] < 0.1
    assert model.discriminate(real).mean() > 0.9
    assert model.discriminate(model.sample(16)).mean() < 0.1
    assert all(torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters(), strict=True))


def test_dcgan_generator_learns_to_fool_a_fixed_discriminator():
    torch.manual_seed(0)
    model = dcgan(lr_g=0.0, lr_d=1e-3)
    real = patterns(16)
    for _ in range(30):  # D learns to reject G's samples ...
        model.train_step(Batch(real))
    assert model.discriminate(model.sample(64)).mean() < 0.1
    model.apply_config(model.config.replace(lr_g=2e-3, lr_d=0.0))
    for _ in range(30):  # ... then only G learns, against that D
        metrics = model.train_step(Batch(real))
    assert metrics["d_fake"] > 0.5
    assert model.discriminate(model.sample(64)).mean() > 0.5


def test_vae_train_step_metrics(runtime):
    model = vae(runtime=runtime)
    metrics = model.train_step(Batch(images(16)))
    _assert_metrics(metrics, {"loss", "recon", "kl", "elbo"})
    assert torch.allclose(metrics["elbo"], -metrics["loss"])
    assert torch.allclose(metrics["loss"], metrics["recon"] + metrics["kl"])
    assert metrics["kl"] >= 0


@pytest.mark.parametrize(("architecture", "lr"), [("mlp", 3e-3), ("conv", 1e-2), ("burgess", 3e-3)])
def test_vae_learns_a_fixed_batch(architecture, lr):
    torch.manual_seed(0)
    model = vae(spec(28) if architecture == "mlp" else spec(8), architecture=architecture, lr=lr)
    x = patterns(32, 28 if architecture == "mlp" else 8)
    first = model.train_step(Batch(x))["loss"]
    losses = [model.train_step(Batch(x))["loss"] for _ in range(100)]
    final = torch.stack(losses[-10:]).mean()
    assert final < 0.5 * first
    model.eval()
    recon_error = (model.reconstruct(x) - x).abs().mean()
    assert recon_error < 0.25


def test_gaussian_vae_learns_points():
    torch.manual_seed(0)
    model = vae(DataSpec("points", (2,)), hidden=(32, 32), lr=1e-2)
    x = torch.cat([torch.randn(64, 2) * 0.1 + 3, torch.randn(64, 2) * 0.1 - 3])
    first = model.train_step(Batch(x))["loss"]
    for _ in range(100):
        last = model.train_step(Batch(x))
    assert last["loss"] < first - 1.0
    assert (model.reconstruct(x) - x).abs().mean() < 0.5  # the clusters are 6 apart


def test_kl_weight_is_the_only_hook_a_beta_vae_needs():
    @dataclasses.dataclass(frozen=True)
    class BetaConfig(VAEConfig):
        beta: float = 4.0

    class BetaVAE(VAE):
        name = "beta_vae_test"
        Config = BetaConfig

        def kl_weight(self) -> float:
            return self.config.beta

    assert check_model_class(BetaVAE) == []
    model = BetaVAE(BetaConfig.from_dict(VAEConfig.presets["tiny"]), data_spec=spec(), runtime=CPU)
    m = model.train_step(Batch(images(8)))
    assert torch.allclose(m["loss"], m["recon"] + 4.0 * m["kl"])
    assert torch.allclose(m["elbo"], -(m["recon"] + m["kl"]))
