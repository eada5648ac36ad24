"""The model contract: checks that any model family -- built-in or a plugin's -- must pass.

A family that passes every check here works in every widget its capabilities allow. Each
check is an ordinary function with the same signature::

    check(model_cls, data, *, runtime=None, tmp_path=None) -> None

and raises ``AssertionError`` (or the model's own exception) with a message naming the model
and what is wrong. Nothing here branches on a model's name: data are chosen from the family's
``data_kinds`` and capabilities (:func:`contract_data`), and models are built from the
``"tiny"`` preset every family must provide.

Use it from a test suite::

    from genwidgets.testing import CHECKS, contract_cases, contract_data

    @pytest.mark.parametrize(("model", "kind"), contract_cases(["mymodel"]))
    @pytest.mark.parametrize("check", sorted(CHECKS))
    def test_contract(model, kind, check, tmp_path):
        cls = genwidgets.get_model(model)
        CHECKS[check](cls, contract_data(kind), tmp_path=tmp_path)

or all at once: ``check_model(MyModel)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import torch

from ..config import ModelConfig
from ..data.base import Batch, DataSpec, GenData
from ..device import Runtime
from ..errors import CapabilityError, ConfigError, DataError
from ..model import VERB_FLAGS, GenerativeModel, check_model_class

#: Registered data set used for each data kind: small, real and labelled (so conditional families fit).
CONTRACT_DATA: Mapping[str, str] = {"images": "digits", "points": "ring"}
#: Preset every family must provide, and that the checks build from.
TINY = "tiny"
#: Examples per verb call in the checks.
N = 5
#: Training steps the determinism and checkpoint checks take.
STEPS = 3
#: The values ``score_kind`` may take on a family that discriminates.
SCORE_KINDS = ("probability", "critic")


class Check(Protocol):
    """The signature every contract check has."""

    def __call__(self, model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                 tmp_path: Path | None = None) -> None:
        """Check ``model_cls`` on ``data``; raise AssertionError naming the model and the broken rule."""


# ---- data, runtime, building ---------------------------------------------------------------------

@functools.cache
def _load(name: str) -> GenData:
    from ..api import load_data

    return load_data(name)


def contract_data(kind: str) -> GenData:
    """The small real data set the contract uses for ``kind``: ``digits`` (8x8 images) or ``ring`` (2-D points).

    Both are labelled, so conditional families can train on them. Loaded once per process.
    """
    if kind not in CONTRACT_DATA:
        raise ValueError(f"no contract data for kind {kind!r}; kinds: {', '.join(CONTRACT_DATA)}")
    return _load(CONTRACT_DATA[kind])


def contract_kinds(model_cls: type[GenerativeModel]) -> list[str]:
    """The data kinds the contract exercises a family on: every kind it declares that has contract data."""
    return [kind for kind in model_cls.data_kinds if kind in CONTRACT_DATA]


def contract_cases(names: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """``(model name, data kind)`` pairs for every registered model (or ``names``), for parametrising tests."""
    from ..registry import get_registry

    registry = get_registry()
    names = registry.model_names() if names is None else list(names)
    return [(name, kind) for name in names for kind in contract_kinds(registry.get_model(name))]


def contract_runtime(device: str | torch.device | None = "cpu") -> Runtime:
    """A runtime for the checks: fp32 on ``device``, built directly (no reseeding, no thread changes)."""
    return Runtime(device=torch.device(device) if device is not None else torch.device("cpu"))


def build(
    model_cls: type[GenerativeModel],
    spec: DataSpec,
    *,
    runtime: Runtime | None = None,
    config: Mapping[str, Any] | None = None,
) -> GenerativeModel:
    """Build ``model_cls`` from its ``"tiny"`` preset (plus ``config`` overrides) for data of ``spec``."""
    cfg = model_cls.Config.from_dict(config, preset=TINY)
    return model_cls(cfg, data_spec=spec, runtime=runtime or contract_runtime())


def _batch(model: GenerativeModel, data: GenData, n: int, *, seed: int = 0) -> Batch:
    """``n`` examples of ``data`` on the model's device (labels kept only for conditional models)."""
    batch = data.examples(n, seed=seed).to(model.device)
    return batch if model.capabilities.conditional else Batch(batch.x, None)


def _labels(model: GenerativeModel, batch: Batch) -> torch.Tensor | None:
    return batch.labels if model.capabilities.conditional else None


def _z(model: GenerativeModel, n: int, *, seed: int = 7) -> torch.Tensor:
    """Codes (n, latent_dim) from a private generator, on the model's device."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, max(model.latent_dim, 1), generator=gen).to(model.device)


def _train_batches(model: GenerativeModel, data: GenData, steps: int) -> list[Batch]:
    size = min(model.config.batch_size, len(data))
    return [_batch(model, data, size, seed=100 + i) for i in range(steps)]


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_same_state(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor], what: str) -> None:
    assert a.keys() == b.keys(), f"{what}: different state_dict keys: {sorted(set(a) ^ set(b))}"
    differ = [k for k in a if not torch.equal(a[k].cpu(), b[k].cpu())]
    assert not differ, f"{what}: tensors differ: {differ[:5]}"


def _same_device(t: torch.Tensor, device: torch.device) -> bool:
    return t.device.type == device.type and (device.index is None or t.device.index in (None, device.index))


def _name(model_cls: type[GenerativeModel]) -> str:
    return model_cls.name or model_cls.__name__


@contextlib.contextmanager
def _tmp(tmp_path: Path | None) -> Iterator[Path]:
    if tmp_path is not None:
        yield Path(tmp_path)
    else:
        with tempfile.TemporaryDirectory(prefix="genwidgets-contract-") as d:
            yield Path(d)


# ---- the checks ----------------------------------------------------------------------------------

def check_class(model_cls: type[GenerativeModel], data: GenData | None = None, *,
                runtime: Runtime | None = None, tmp_path: Path | None = None) -> None:
    """The class is a valid family: registry check, paper, docstring, data kinds, a tiny preset, a score kind."""
    name = _name(model_cls)
    problems = check_model_class(model_cls)
    assert not problems, f"{name}: " + "; ".join(problems)
    assert model_cls.paper.strip(), f"{name}: set the class attribute `paper` to a one-line citation"
    assert (model_cls.__doc__ or "").strip(), f"{name}: the class needs a docstring"
    assert model_cls.data_kinds and set(model_cls.data_kinds) <= {"images", "points"}, (
        f"{name}.data_kinds must be a non-empty subset of ('images', 'points'), got {model_cls.data_kinds!r}")
    assert TINY in model_cls.Config.presets, f"{name}.Config needs a {TINY!r} preset (seconds on a CPU, for tests)"
    for preset in model_cls.Config.presets:
        assert isinstance(model_cls.Config.from_dict(preset=preset), ModelConfig)
    if model_cls.capabilities.can_discriminate:
        kind = getattr(model_cls, "score_kind", "probability")
        assert kind in SCORE_KINDS, f"{name}.score_kind must be one of {SCORE_KINDS}, got {kind!r}"


def check_outputs(model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                  tmp_path: Path | None = None) -> None:
    """Every promised verb answers with the right shape, float32 dtype, device and range."""
    model = build(model_cls, data.spec, runtime=runtime)
    name, spec, caps = _name(model_cls), data.spec, model.capabilities
    batch = _batch(model, data, N)
    labels = _labels(model, batch)

    def expect(out: Any, shape: tuple[int, ...], verb: str, *, data_space: bool = True) -> None:
        assert isinstance(out, torch.Tensor), f"{name}.{verb} returned {type(out).__name__}, not a tensor"
        assert tuple(out.shape) == shape, f"{name}.{verb}: shape {tuple(out.shape)}, expected {shape}"
        assert out.dtype == torch.float32, f"{name}.{verb}: dtype {out.dtype}, expected torch.float32"
        assert _same_device(out, model.device), f"{name}.{verb}: on {out.device}, the model is on {model.device}"
        assert not out.requires_grad, f"{name}.{verb}: the output still requires grad; detach it"
        assert bool(torch.isfinite(out).all()), f"{name}.{verb}: non-finite values"
        if data_space and spec.kind == "images":
            assert out.min() >= 0 and out.max() <= 1, f"{name}.{verb}: images must be in [0, 1]"

    if caps.can_sample:
        expect(model.sample(N, labels=labels), (N, *spec.shape), "sample")
        if model.latent_dim:
            z = _z(model, N)
            expect(model.sample(99, z=z, labels=labels), (N, *spec.shape), "sample(z=...)")
        grid = model.preview()
        z_fixed, _ = model.fixed_noise()
        assert tuple(grid.shape) == (len(z_fixed), *spec.shape), f"{name}.preview: shape {tuple(grid.shape)}"
        assert model.training, f"{name}.preview left the model in eval mode"
    if caps.can_decode:
        assert model.latent_dim > 0, f"{name} decodes, so latent_dim must be > 0"
        expect(model.decode(_z(model, N), labels=labels), (N, *spec.shape), "decode")
    if caps.can_encode:
        assert model.latent_dim > 0, f"{name} encodes, so latent_dim must be > 0"
        expect(model.encode(batch.x, labels=labels), (N, model.latent_dim), "encode", data_space=False)
    if caps.can_discriminate:
        scores = model.discriminate(batch.x, labels=labels)
        assert isinstance(scores, torch.Tensor) and scores.dim() in (1, 3) and scores.shape[0] == N, (
            f"{name}.discriminate must return (N,) or (N, h, w) scores, got "
            f"{tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__}")
        expect(scores, tuple(scores.shape), "discriminate", data_space=False)
        if getattr(model_cls, "score_kind", "probability") == "probability":
            assert scores.min() >= 0 and scores.max() <= 1, f"{name}.discriminate: probabilities must be in [0, 1]"


def check_capabilities(model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                       tmp_path: Path | None = None) -> None:
    """Absent verbs raise CapabilityError naming the model and flag; data requirements are enforced."""
    model = build(model_cls, data.spec, runtime=runtime)
    name = _name(model_cls)
    x = _batch(model, data, 2).x
    calls: dict[str, Callable[[], Any]] = {
        "sample": lambda: model.sample(2),
        "encode": lambda: model.encode(x),
        "decode": lambda: model.decode(torch.zeros(2, max(model.latent_dim, 1), device=model.device)),
        "discriminate": lambda: model.discriminate(x),
    }
    for verb, flag in VERB_FLAGS.items():
        if getattr(model.capabilities, flag):
            continue
        try:
            calls[verb]()
        except CapabilityError as exc:
            assert repr(name) in str(exc) and flag in str(exc), (
                f"{name}.{verb}: the CapabilityError should name the model and {flag!r}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any other error breaks the contract
            raise AssertionError(
                f"{name}.{verb} raised {type(exc).__name__} ({exc}), not CapabilityError, although {flag}=False"
            ) from exc
        else:
            raise AssertionError(f"{name}.{verb} did not raise CapabilityError although {flag}=False")
    if model.capabilities.conditional:
        unlabelled = DataSpec(data.spec.kind, data.spec.shape, None)
        try:
            build(model_cls, unlabelled, runtime=runtime)
        except DataError:
            pass
        else:
            raise AssertionError(f"{name} is conditional but was built for unlabelled data")
    other = {"images": DataSpec("points", (2,)), "points": DataSpec("images", (1, 8, 8))}
    for kind, spec in other.items():
        if kind == data.spec.kind and spec.kind not in model_cls.data_kinds:
            try:
                build(model_cls, spec, runtime=runtime)
            except DataError:
                pass
            else:
                raise AssertionError(f"{name} does not declare {spec.kind!r} data but was built for it")


def check_train_step(model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                     tmp_path: Path | None = None) -> None:
    """``train_step`` returns the same finite scalar metrics every step, and trains the parameters."""
    model = build(model_cls, data.spec, runtime=runtime)
    name = _name(model_cls)
    before = _state(model)
    keys = None
    for batch in _train_batches(model, data, STEPS):
        metrics = model.train_step(batch)
        assert isinstance(metrics, Mapping) and metrics, f"{name}.train_step must return a non-empty dict"
        keys = keys or set(metrics)
        assert set(metrics) == keys, f"{name}.train_step metrics changed from {sorted(keys)} to {sorted(metrics)}"
        for key, value in metrics.items():
            assert isinstance(key, str), f"{name}.train_step: metric names must be strings, got {key!r}"
            if isinstance(value, torch.Tensor):
                assert value.dim() == 0, f"{name}.train_step: {key} must be 0-dim, got shape {tuple(value.shape)}"
                assert not value.requires_grad, f"{name}.train_step: {key} must be detached"
                value = float(value)
            assert isinstance(value, float | int) and math.isfinite(value), f"{name}.train_step: {key}={value!r}"
    after = _state(model)
    assert any(not torch.equal(before[k], after[k]) for k in before), f"{name}: {STEPS} steps changed no parameter"


#: What a family must do so that its weights come from ``config.seed`` alone (the determinism check's advice).
SEEDED_INIT_HINT = (
    "initialise the weights from config.seed without touching torch's global random generator: build the networks "
    "inside `with torch.random.fork_rng(devices=[]): torch.random.default_generator.manual_seed(config.seed)` "
    "(the built-in families' genwidgets_models.common.seeded does this), or draw initial values from "
    "`torch.Generator().manual_seed(config.seed)`; never call torch.manual_seed in __init__ "
    "(see 'Seeding' in docs/plugins.md)"
)


def _built(model_cls: type[GenerativeModel], data: GenData, runtime: Runtime | None, *, global_seed: int
           ) -> tuple[GenerativeModel, dict[str, torch.Tensor], bool]:
    """Build after seeding the global generator with ``global_seed``.

    Returns the model, its initial state, and whether building it left the global CPU generator as it was.
    """
    torch.manual_seed(global_seed)
    before = torch.get_rng_state()
    model = build(model_cls, data.spec, runtime=runtime)
    return model, _state(model), torch.equal(before, torch.get_rng_state())


def _trained(model: GenerativeModel, data: GenData) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    batches = _train_batches(model, data, STEPS)
    torch.manual_seed(1234)
    for batch in batches:
        model.train_step(batch)
    out = None
    if model.capabilities.can_sample:
        model.eval()
        torch.manual_seed(99)
        labels = _labels(model, _batch(model, data, N))
        z = _z(model, N) if model.latent_dim else None
        out = model.sample(N, z=z, labels=labels).cpu()
    return _state(model), out


def check_determinism(model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                      tmp_path: Path | None = None) -> None:
    """Weights come from ``config.seed`` alone, and two such builds trained alike agree exactly.

    The two builds start from different states of torch's global generator: a family whose initial
    weights depend on it (unseeded ``nn.Linear`` defaults, ``torch.randn`` in ``__init__``) fails, and
    so does one that reseeds or draws from it while building (``torch.manual_seed(config.seed)`` in
    ``__init__`` would reset the random stream of the user's notebook and of a run). Both messages
    say how to build under a private generator instead (:data:`SEEDED_INIT_HINT`). Then both train on
    the same batches from the same global RNG state, and must agree in weights and in samples.
    The global generator is restored afterwards.
    """
    name = _name(model_cls)
    with torch.random.fork_rng(devices=[]):
        model_a, init_a, kept_a = _built(model_cls, data, runtime, global_seed=1)
        model_b, init_b, kept_b = _built(model_cls, data, runtime, global_seed=2)
        assert init_a.keys() == init_b.keys(), (
            f"{name}: two builds of one config have different state_dict keys: {sorted(set(init_a) ^ set(init_b))}")
        differ = [k for k in init_a if not torch.equal(init_a[k].cpu(), init_b[k].cpu())]
        assert not differ, (
            f"{name}: two builds with the same config.seed start from different weights ({', '.join(differ[:5])}): "
            f"they were drawn from torch's global random generator, not from config.seed; {SEEDED_INIT_HINT}")
        assert kept_a and kept_b, (
            f"{name}: building the model changed torch's global random generator (it was reseeded or drawn from), "
            f"which resets the random stream of the caller and of a run; {SEEDED_INIT_HINT}")
        state_a, samples_a = _trained(model_a, data)
        state_b, samples_b = _trained(model_b, data)
    _assert_same_state(state_a, state_b, f"{name}: two seeded builds after {STEPS} steps (train_step must draw "
                                         "random numbers from torch's global generator or from config.seed)")
    if samples_a is not None:
        assert samples_b is not None and torch.equal(samples_a, samples_b), (
            f"{name}: sample(z=fixed) differs between two seeded builds")


def check_checkpoint(model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                     tmp_path: Path | None = None) -> None:
    """Run.save() -> load_model() gives the same weights and samples; resume() continues exactly.

    The family must be registered under its name (checkpoints name the family, not the class).
    """
    from ..api import load_model, resume
    from ..registry import get_registry
    from ..runtime.run import Run

    name = _name(model_cls)
    assert get_registry().get_model(model_cls.name) is model_cls, (
        f"{name}: register the family (the checkpoint check loads it back by name)")
    model = build(model_cls, data.spec, runtime=runtime)
    device = str(model.device)
    with _tmp(tmp_path) as out:
        run = Run(model, data, steps=2 * STEPS, out_dir=out / f"contract-{name}-{data.name}", log_every=1,
                  sample_every=2, checkpoint_every=None, plugin_events=False)
        torch.manual_seed(0)
        run.step(STEPS)
        path = run.save()
        rng_at_save = torch.get_rng_state()
        saved = _state(model)

        loaded = load_model(path, device=device)
        _assert_same_state(saved, _state(loaded), f"{name}: load_model after Run.save")
        assert dataclasses.asdict(loaded.config) == dataclasses.asdict(model.config), f"{name}: config changed"
        if model.capabilities.can_sample and model.latent_dim:
            labels = _labels(model, _batch(model, data, N))
            model.eval()
            a, b = model.sample(N, z=_z(model, N), labels=labels), loaded.sample(N, z=_z(loaded, N), labels=labels)
            model.train()
            assert torch.equal(a.cpu(), b.cpu()), f"{name}: the loaded model samples differently from fixed z"

        resumed = resume(path, data=data, start=False, device=device, plugin_events=False)
        assert resumed.step_count == STEPS, f"{name}: resumed at step {resumed.step_count}, saved at {STEPS}"
        _assert_same_state(saved, _state(resumed.model), f"{name}: resume after Run.save")
        resumed.step(STEPS)
        torch.set_rng_state(rng_at_save)
        run.step(STEPS)
        _assert_same_state(_state(run.model), _state(resumed.model), f"{name}: resumed run vs the original")


def _edited_value(field: dataclasses.Field, value: Any) -> Any:
    """A different valid value for an editable field (within its bounds, inclusive or exclusive)."""
    meta = field.metadata
    if meta.get("choices"):
        return next(c for c in meta["choices"] if c != value)
    if isinstance(value, bool):
        return not value
    low = meta.get("low")
    if isinstance(value, int):
        return value + 1 if ModelConfig.within_bounds(field, value + 1) else value - 1
    if isinstance(value, float):
        candidates = [value * 0.5 if value else 1e-3, value * 2, *([(low + value) / 2] if low is not None else [])]
        return float(next((c for c in candidates if c != value and ModelConfig.within_bounds(field, c)), value))
    raise AssertionError(f"cannot pick a new value for editable field {field.name!r} = {value!r}")


def check_editable(model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                   tmp_path: Path | None = None) -> None:
    """Editable fields change live through a Run and reach the model; learning-rate edits reach optimizers.

    A learning rate set to 0 must freeze exactly the parameters of its optimizer (checked where the
    field allows 0; a rate declared with ``param(gt=0.0)`` is not).
    """
    from ..runtime.run import Run

    name = _name(model_cls)
    fields = {f.name: f for f in dataclasses.fields(model_cls.Config)}
    model = build(model_cls, data.spec, runtime=runtime)
    run = Run(model, data, steps=None, checkpoint_every=None, plugin_events=False)
    frozen = [f for f in fields if not fields[f].metadata.get("editable")]
    if frozen:
        try:
            run.set_hparams(**{frozen[0]: getattr(model.config, frozen[0])})
        except ConfigError:
            pass
        else:
            raise AssertionError(f"{name}: a Run accepted a live edit of non-editable field {frozen[0]!r}")
    for field in model_cls.Config.editable_fields():
        new = _edited_value(fields[field], getattr(model.config, field))
        run.set_hparams(**{field: new})
        run.step(1)
        assert getattr(model.config, field) == new, f"{name}: live edit {field}={new!r} did not reach model.config"
        assert run.hparams[field] == new, f"{name}: run.hparams[{field!r}] is not the edited value"
    for opt_name, opt in model.optimizers.items():
        field = f"lr_{opt_name}" if f"lr_{opt_name}" in fields else ("lr" if len(model.optimizers) == 1 else None)
        if field is None or not fields[field].metadata.get("editable"):
            continue
        lr = getattr(model.config, field)
        assert all(g["lr"] == lr for g in opt.param_groups), f"{name}: optimizer {opt_name!r} lr is not {field}"
        if not ModelConfig.within_bounds(fields[field], 0.0):
            continue  # a learning rate declared > 0 (see param(gt=...)) has no freezing value
        run.set_hparams(**{field: 0.0})
        params = [p for g in opt.param_groups for p in g["params"]]
        before = [p.detach().clone() for p in params]
        run.step(1)
        assert all(torch.equal(a, p.detach()) for a, p in zip(before, params, strict=True)), (
            f"{name}: {field}=0 did not freeze the parameters of optimizer {opt_name!r}")
        run.set_hparams(**{field: lr})


def check_explorer(model_cls: type[GenerativeModel], data: GenData, *, runtime: Runtime | None = None,
                   tmp_path: Path | None = None) -> None:
    """The latent explorer works on the family as its capabilities say.

    A family that decodes gets a map (encoded data or prior codes), lifts map points to codes,
    decodes them to outputs shaped like its data, and can be snapshotted (deep-copied without
    optimizers, as the explorer does to look at a model that is training). A family that cannot
    decode is refused with a :class:`CapabilityError`.
    """
    from ..explore.model_view import frozen_copy
    from ..explore.session import LatentSession

    name = _name(model_cls)
    model = build(model_cls, data.spec, runtime=runtime)
    if not model_cls.capabilities.can_decode:
        try:
            LatentSession(model, data, n=8)
        except CapabilityError:
            return
        raise AssertionError(f"{name}: the latent explorer opened on a model without 'can_decode'")
    frozen = frozen_copy(model)
    assert type(frozen) is model_cls and not frozen.training, f"{name}: a snapshot must be an eval-mode copy"
    session = LatentSession(model, data, n=16)
    state = session.state
    assert state.latent_map.codes.shape == (16, model.latent_dim), (
        f"{name}: the explorer's map holds codes of shape {state.latent_map.codes.shape}, "
        f"expected (16, latent_dim={model.latent_dim})")
    z, _ = session.lift(0.1, -0.1)
    out = session.traversal(z, k=2, steps=3)["outputs"]
    rows = min(2, model.latent_dim) * 3
    if data.spec.kind == "images":
        c, h, w = data.spec.shape
        assert out.shape == (rows, h, w, c) and out.dtype.name == "uint8", (
            f"{name}: decoded images for the explorer have shape {out.shape}, expected {(rows, h, w, c)}")
    else:
        assert out.shape == (rows, data.spec.numel), f"{name}: decoded points have shape {out.shape}"
    assert math.isfinite(float(out.astype("float64").sum())), f"{name}: decode gave non-finite outputs"


#: Every check, by name (what a parametrised test or a pytest plugin iterates over).
CHECKS: dict[str, Check] = {
    "class": check_class,
    "outputs": check_outputs,
    "capabilities": check_capabilities,
    "train_step": check_train_step,
    "determinism": check_determinism,
    "checkpoint": check_checkpoint,
    "editable": check_editable,
    "explorer": check_explorer,
}


def check_model(
    model: str | type[GenerativeModel],
    *,
    data: GenData | None = None,
    runtime: Runtime | None = None,
    tmp_path: Path | None = None,
    checks: Iterable[str] | None = None,
) -> None:
    """Run the contract checks on a family (by registered name or class).

    Args:
        model: A registered name or a model class (the checkpoint check needs it registered).
        data: Data to check on; default: the contract data for every kind the family declares.
        runtime: Where to build models (default: CPU, fp32).
        tmp_path: Folder for checkpoints (default: a temporary folder).
        checks: Names from :data:`CHECKS` to run (default: all).
    """
    from ..registry import get_registry

    cls = get_registry().get_model(model) if isinstance(model, str) else model
    sets = [data] if data is not None else [contract_data(kind) for kind in contract_kinds(cls)]
    assert sets, f"{_name(cls)} declares no data kind the contract has data for ({', '.join(CONTRACT_DATA)})"
    for name in checks or CHECKS:
        for ds in sets:
            CHECKS[name](cls, ds, runtime=runtime, tmp_path=tmp_path)
