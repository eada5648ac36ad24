"""What docs/plugins.md promises a third-party author, checked against the code it describes.

* the model layer: ``GenerativeModel[Config]`` types ``self.config``, the GAN families inherit their
  capabilities, and one MLP builder makes every fully connected stack of the built-ins;
* seeding: the contract's determinism check names the cause and the fix when a family's weights do
  not come from ``config.seed`` alone, or when building it touches torch's global generator;
* exclusive config bounds (``param(gt=..., lt=...)``) and their messages;
* data sets, metrics and the held-out split (``genwidgets.train_test_split``), through the guide's
  own snippets, run as written;
* ``genwidgets plugins``: the text shows everything ``--json`` holds, and ``--json`` is
  ``genwidgets.list_plugins()``;
* the example plugin imports only public top-level names.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import torch
from torch import nn

import genwidgets
from genwidgets import ConfigError, GenerativeModel, ModelConfig, param
from genwidgets.testing import CHECKS, contract_data, contract_runtime
from genwidgets.testing.contract import SEEDED_INIT_HINT

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugins.md"
BUILTIN = ("beta_vae", "cgan", "dcgan", "gan", "vae", "wgan_gp")


# ---- the model layer ------------------------------------------------------------------------------

def _config_parameter(cls: type) -> type:
    """The Config a family gives ``GenerativeModel[...]``, through generic bases (a TypeVar: its bound)."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if isinstance(origin, type) and issubclass(origin, GenerativeModel):
            (arg,) = typing.get_args(base)
            return arg.__bound__ if isinstance(arg, typing.TypeVar) else arg
    raise AssertionError(f"{cls.__name__} does not parametrise GenerativeModel with its Config")


def test_a_family_types_its_config_through_the_base_class():
    """``GenerativeModel[MyConfig]`` is the family's declared config type, and it is what ``Config`` builds."""

    @dataclasses.dataclass(frozen=True)
    class SizeConfig(ModelConfig):
        size: int = param(3, low=1, high=9)

    class Sized(GenerativeModel[SizeConfig]):
        name = "sized"
        Config = SizeConfig

    model = Sized(SizeConfig(size=5), data_spec=genwidgets.DataSpec("points", (2,)))
    assert model.config.size == 5 and _config_parameter(Sized) is SizeConfig
    with pytest.raises(ConfigError, match="sized expects a SizeConfig, got ModelConfig"):
        Sized(ModelConfig(), data_spec=genwidgets.DataSpec("points", (2,)))  # checked at run time as before
    for name in BUILTIN:
        cls = genwidgets.get_model(name)
        assert _config_parameter(cls) is cls.Config, f"{name}: type parameter and Config disagree"


def test_the_builtin_families_need_no_type_casts():
    """With a typed ``self.config`` (and validated labels returned as tensors) nothing in plugins/ needs a cast."""
    casts = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "plugins").rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if "type: ignore" in line]
    assert casts == []


def test_gan_families_set_capabilities_only_where_they_differ_from_their_base():
    flags = {name: genwidgets.get_model(name).capabilities.names() for name in BUILTIN}
    assert flags == {"beta_vae": ["sample", "encode", "decode"], "vae": ["sample", "encode", "decode"],
                     **{g: ["sample", "encode", "decode", "discriminate"] for g in ("cgan", "dcgan", "gan", "wgan_gp")}}
    assert genwidgets.get_model("cgan").capabilities.conditional
    assert not any(genwidgets.get_model(g).capabilities.conditional for g in ("dcgan", "gan", "wgan_gp"))
    for name in BUILTIN:
        cls = genwidgets.get_model(name)
        for klass in cls.__mro__[: cls.__mro__.index(GenerativeModel)]:
            if "capabilities" in vars(klass):
                parent = next(b for b in klass.__mro__[1:] if hasattr(b, "capabilities"))
                assert klass.capabilities != parent.capabilities, (
                    f"{klass.__name__} restates the capabilities of {parent.__name__}")


def test_one_mlp_builder_makes_every_fully_connected_stack():
    """The shared ``mlp`` builds exactly the layers each family had, in order (so checkpoints still load)."""
    from genwidgets.data.base import DataSpec
    from genwidgets_models.common import mlp
    from genwidgets_models.conv import BurgessDecoder, BurgessEncoder
    from genwidgets_models.gan import MLPDiscriminator, MLPGenerator
    from genwidgets_models.wgan_gp import MLPCritic

    def layout(module: nn.Module) -> list[str]:
        return [repr(m) for m in module.children()]

    stack = mlp(4, (8, 6), 2, activation=lambda: nn.LeakyReLU(0.2), norm=nn.BatchNorm1d, dropout=0.3)
    assert [(type(m).__name__, *(getattr(m, a) for a in ("in_features", "out_features", "num_features",
                                                         "negative_slope", "p") if hasattr(m, a)))
            for m in stack] == [("Linear", 4, 8), ("BatchNorm1d", 8), ("LeakyReLU", 0.2), ("Dropout", 0.3),
                                ("Linear", 8, 6), ("BatchNorm1d", 6), ("LeakyReLU", 0.2), ("Dropout", 0.3),
                                ("Linear", 6, 2)]
    assert [type(m).__name__ for m in mlp(3, (5,), 1)] == ["Linear", "ReLU", "Linear"]  # the defaults
    spec = DataSpec("images", (1, 8, 8))
    assert layout(MLPGenerator(5, (16, 32), spec, batchnorm=True).net) == layout(
        mlp(5, (16, 32), 64, norm=nn.BatchNorm1d))
    assert layout(MLPDiscriminator(64, (32, 16), 0.3).net) == layout(
        mlp(64, (32, 16), 1, activation=lambda: nn.LeakyReLU(0.2), dropout=0.3))
    assert layout(MLPCritic(2, (16, 16)).net) == layout(mlp(2, (16, 16), 1))
    # Burgess et al.'s fully connected layers stay flat in the conv Sequential: the same state_dict keys
    assert list(BurgessEncoder(1, 64, 20).state_dict()) == [
        *(f"net.{i}.{p}" for i in (0, 2, 4, 6) for p in ("weight", "bias")),
        *(f"net.{i}.{p}" for i in (9, 11, 13) for p in ("weight", "bias"))]
    assert [k for k in BurgessDecoder(10, 1, 64).state_dict() if k.startswith("fc.")] == [
        f"fc.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")]


# ---- seeding: the determinism check says what is wrong and how to fix it ----------------------------

def _vae_variant(name: str, init_extra) -> type:
    vae = genwidgets.get_model("vae")

    def __init__(self, config, *, data_spec, runtime=None):
        init_extra(self, config, lambda: vae.__init__(self, config, data_spec=data_spec, runtime=runtime))

    return type(name.title(), (vae,), {"name": name, "__init__": __init__, "__doc__": f"A VAE ({name})."})


def _determinism(cls: type) -> None:
    CHECKS["determinism"](cls, contract_data("points"), runtime=contract_runtime())


def test_determinism_check_names_weights_drawn_from_the_global_generator():
    def init(self, config, base_init):
        base_init()
        self.extra = nn.Linear(2, 2)  # initialised from torch's global generator, not from config.seed

    with pytest.raises(AssertionError) as err:
        _determinism(_vae_variant("unseeded_init", init))
    message = str(err.value)
    assert "unseeded_init: two builds with the same config.seed start from different weights (extra.weight" in message
    assert "not from config.seed" in message and "torch.random.fork_rng" in message and "torch.Generator" in message


def test_determinism_check_refuses_a_family_that_reseeds_the_global_generator():
    def init(self, config, base_init):
        torch.manual_seed(config.seed)  # same weights every time, but the caller's random stream is reset
        base_init()
        self.extra = nn.Linear(2, 2)

    with pytest.raises(AssertionError) as err:
        _determinism(_vae_variant("reseeding", init))
    message = str(err.value)
    assert "reseeding: building the model changed torch's global random generator" in message
    assert SEEDED_INIT_HINT in message


def test_determinism_check_leaves_the_global_generator_as_it_found_it():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    _determinism(genwidgets.get_model("vae"))
    assert torch.equal(before, torch.get_rng_state())


# ---- exclusive bounds -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class BoundedConfig(ModelConfig):
    lr: float = param(1e-3, gt=0.0, high=1.0)
    beta: float = param(0.5, low=0.0, lt=1.0)
    rate: float = param(0.5, gt=0.0)
    frac: float = param(0.5, lt=1.0)
    steps: tuple[int, ...] = param((1, 2), gt=0)


@pytest.mark.parametrize(("values", "allowed"), [
    ({"lr": 0.0}, "0.0 < value <= 1.0"),
    ({"beta": 1.0}, "0.0 <= value < 1.0"),
    ({"rate": 0.0}, "value > 0.0"),
    ({"frac": 1.0}, "value < 1.0"),
    ({"steps": (1, 0)}, "value > 0"),
])
def test_an_exclusive_bound_refuses_the_bound_itself_and_says_so(values, allowed):
    ((name, value),) = values.items()
    with pytest.raises(ConfigError) as err:
        BoundedConfig.from_dict(values)
    assert str(err.value) == f"BoundedConfig.{name}={value!r} is out of range; allowed: {allowed}"
    schema = {f["name"]: f["allowed"] for f in BoundedConfig.schema()}
    assert schema[name] == allowed


def test_an_exclusive_bound_accepts_everything_inside_it():
    cfg = BoundedConfig(lr=1.0, beta=0.0, rate=1e-300, frac=0.999999, steps=(1,))
    assert (cfg.lr, cfg.beta, cfg.rate, cfg.frac) == (1.0, 0.0, 1e-300, 0.999999)
    inclusive = {f["name"]: f["allowed"] for f in ModelConfig.schema()}
    assert inclusive["batch_size"] == "1 <= value <= 65536"  # inclusive bounds read as before


def test_a_field_takes_one_lower_and_one_upper_bound():
    with pytest.raises(TypeError, match=r"low= \(inclusive\) or gt= \(exclusive\), not both"):
        param(1.0, low=0.0, gt=0.0)
    with pytest.raises(TypeError, match=r"high= \(inclusive\) or lt= \(exclusive\), not both"):
        param(1.0, high=1.0, lt=1.0)


def test_builtin_learning_rates_and_betas_use_exclusive_bounds_where_the_bound_is_wrong():
    vae, beta_vae, gan, wgan = (genwidgets.get_model(n).Config for n in ("vae", "beta_vae", "gan", "wgan_gp"))
    for config in (vae, beta_vae, genwidgets.get_model("gaussian").Config):
        with pytest.raises(ConfigError, match=r"lr=0.0 is out of range; allowed: 0.0 < value <= "):
            config(lr=0.0)  # one optimizer at lr 0 would train nothing
    assert gan(lr_g=0.0).lr_g == 0.0 and wgan(lr_d=0.0).lr_d == 0.0  # 0 freezes one GAN player, on purpose
    for config in (gan, wgan):
        assert config(beta1=0.99995, beta2=0.999999).beta1 == 0.99995  # Adam needs beta < 1, not <= 0.9999
        with pytest.raises(ConfigError, match=r"beta2=1.0 is out of range; allowed: 0.0 <= value < 1.0"):
            config(beta2=1.0)


# ---- the guide's snippets, run as written ------------------------------------------------------------

def _snippet(name: str) -> str:
    match = re.search(rf"<!-- tested:{name} -->\n```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert match, f"docs/plugins.md has no tested:{name} snippet"
    return match.group(1)


@pytest.fixture
def guide_module(monkeypatch: pytest.MonkeyPatch):
    """Run a snippet of the guide as a module of its own (importable while the test runs, as a plugin's is)."""

    def run(name: str) -> types.ModuleType:
        module = types.ModuleType(f"guide_{name}")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        exec(compile(_snippet(name), f"docs/plugins.md:{name}", "exec", dont_inherit=True), module.__dict__)
        return module

    return run


def test_the_seeding_snippet_makes_a_family_that_passes_the_contract(guide_module):
    cls = guide_module("seeding").LinearDecoder
    for check in ("class", "outputs", "capabilities", "train_step", "determinism", "editable"):
        CHECKS[check](cls, contract_data("points"), runtime=contract_runtime())


def test_the_dataset_snippet_loads_with_the_options_the_user_gives(guide_module):
    genwidgets.get_registry().add_plugin(guide_module("dataset"), name="guide-stripes")
    (entry,) = [d for d in genwidgets.list_datasets() if d["name"] == "stripes"]
    data = genwidgets.load_data("stripes")  # no options: the loader's defaults, as registered
    assert (len(data), list(data.spec.shape), data.spec.num_classes, data.spec.kind) == (
        entry["size"], entry["shape"], entry["num_classes"], entry["kind"])
    small = genwidgets.load_data("stripes", n=64, seed=3)
    assert len(small) == 64 and small.name == "stripes" and small.class_names == ["horizontal", "vertical"]
    assert torch.equal(small.x, genwidgets.load_data("stripes", n=64, seed=3).x)


def test_the_metric_snippet_holds_out_examples_with_the_public_split(guide_module):
    from genwidgets.metrics import evaluate

    genwidgets.get_registry().add_plugin(guide_module("metric"), name="guide-metric")
    ring = genwidgets.load_data("ring")
    model = genwidgets.build_model("vae", ring.spec, preset="tiny", runtime=contract_runtime())
    result = evaluate(model, data=ring, metrics=["heldout_mse"], n=50)
    assert result["failed"] == {} and result["providers"] == {"heldout_mse": "guide-metric"}
    out = result["metrics"]["heldout_mse"]
    _, test = genwidgets.train_test_split(ring)
    assert (out["examples"], out["held_out"], out["of"]) == (50, len(test), len(ring)) and out["mse"] > 0


def test_train_test_split_is_a_lazy_public_name():
    from genwidgets.data import splits

    assert genwidgets.train_test_split is splits.train_test_split and "train_test_split" in genwidgets.__all__
    code = ("import sys, genwidgets; assert 'torch' not in sys.modules; f = genwidgets.train_test_split; "
            "print(f.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "genwidgets.data.splits"


def test_the_guide_answers_what_authors_had_to_guess():
    page = GUIDE.read_text()
    for heading in ("### Config fields and their bounds", "### Seeding: weights from `config.seed`",
                    "## Data sets", "## Metrics", "### The image classifier `evaluate` trains, and caches",
                    "### Reading a run's state from a panel", "## Checking what loaded"):
        assert f"\n{heading}\n" in page, heading
    assert SEEDED_INIT_HINT.split(":")[0] in " ".join(page.split())  # the contract's advice, quoted in the guide
    assert "$GENWIDGETS_CACHE/classifiers/" in page and "get_classifier(" in page
    section = page.split("### Reading a run's state from a panel", 1)[1].split("\n## ", 1)[0]
    assert "TODO" not in section and "genwidgets.RunHandle" in section and "replay" in section


# ---- genwidgets plugins ------------------------------------------------------------------------------

EVERYTHING = '''
    from genwidgets import TensorData, hookimpl

    def _panel(run):
        raise RuntimeError("not opened here")

    @hookimpl
    def register_datasets(register):
        register("dots", lambda: None, description="dots", kind="points", shape=(2,), size=1)

    @hookimpl
    def register_metrics(register):
        register("dot_count", lambda model, data, *, n, seed: {"n": n}, description="counts")

    @hookimpl
    def register_panels(register):
        register("dot_view", _panel, title="Dots")
'''


def test_plugins_text_shows_everything_json_holds_and_json_is_list_plugins(install_plugin, capsys):
    from genwidgets.cli import main

    install_plugin("gw-everything", "gw_everything", EVERYTHING)
    assert main(["plugins", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == genwidgets.list_plugins()
    assert main(["plugins"]) == 0
    text = capsys.readouterr().out
    blocks = dict(re.findall(r"^(\S+)  \(.*?\)\n((?:  .*\n)*)", text, re.M))
    assert set(blocks) == {p["name"] for p in listed}
    for plugin in listed:
        block = blocks[plugin["name"]]
        for model in plugin["models"]:
            assert re.search(rf"^  model {model} +\w", block, re.M), (model, block)
        for kind in ("datasets", "metrics", "panels", "hooks"):
            if plugin[kind]:
                assert f"  {kind}: {', '.join(plugin[kind])}\n" in block, (kind, block)
    assert ("  datasets: dots\n  metrics: dot_count\n  panels: dot_view\n"
            "  hooks: register_datasets, register_metrics, register_panels\n") in blocks["gw-everything"]
    assert "  model dcgan      sample, encode, decode, discriminate\n" in blocks["models"]


# ---- the example plugin uses only the public surface -----------------------------------------------

def test_the_example_plugin_imports_only_public_top_level_names():
    example = ROOT / "examples" / "genwidgets-example-plugin"
    for path in sorted((example / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("genwidgets"):
                assert node.module == "genwidgets", f"{path.name}: from {node.module} import ..."
                missing = [a.name for a in node.names if a.name not in genwidgets.__all__]
                assert not missing, f"{path.name} imports non-public names {missing}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("genwidgets.") for a in node.names), path.name


def test_the_panel_snippet_shows_a_finished_runs_state_at_once(guide_module):
    """A panel built after the run ended gets its state by replay, not 'waiting for the first metrics'."""
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=20, log_every=10, checkpoint_every=None)
    run.wait()
    label = guide_module("panel").LossLabel(run)
    try:
        assert label._subscription.flush(10.0)
        assert label.value.startswith("step 20: ") and label.value.endswith(" (finished)"), label.value
        assert "loss" in label.value
    finally:
        label.close()
    assert label._subscription.closed
