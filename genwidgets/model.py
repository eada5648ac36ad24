"""The model protocol: what every generative model family provides, whoever wrote it.

A family is a subclass of :class:`GenerativeModel` with a ``name``, a ``Config`` dataclass
(:class:`~genwidgets.config.ModelConfig`), :class:`Capabilities` flags, and the verbs its
flags promise. Widgets and the runtime look only at the flags, never at the name, so a third
party's model works everywhere its capabilities allow.

Verbs a family does not have are inherited from this base, and raise
:class:`~genwidgets.errors.CapabilityError` naming the model and the capability. The
registry refuses a class whose flags and implemented verbs disagree.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import torch
from torch import nn

from .config import ModelConfig
from .data.base import Batch, DataSpec
from .device import Runtime
from .errors import CapabilityError, ConfigError, DataError


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a model family can do; widgets open only for models that have what they need.

    Attributes:
        can_sample: ``sample(n)`` draws new examples.
        can_encode: ``encode(x)`` maps data to latent codes.
        can_decode: ``decode(z)`` maps latent codes to data.
        can_discriminate: ``discriminate(x)`` scores data as real (a GAN's D, a WGAN critic).
        conditional: the model takes class labels (``labels=`` in sample/decode/discriminate).
    """

    can_sample: bool = True
    can_encode: bool = False
    can_decode: bool = False
    can_discriminate: bool = False
    conditional: bool = False

    def to_dict(self) -> dict[str, bool]:
        """Flags as a plain dict."""
        return dataclasses.asdict(self)

    def names(self) -> list[str]:
        """Names of the verbs this model has, e.g. ``['sample', 'decode']``."""
        verbs = {"can_sample": "sample", "can_encode": "encode", "can_decode": "decode",
                 "can_discriminate": "discriminate"}
        return [verb for flag, verb in verbs.items() if getattr(self, flag)]


#: The Config type of a family: ``GenerativeModel[MyConfig]`` types ``self.config`` as ``MyConfig``.
ConfigT = TypeVar("ConfigT", bound=ModelConfig)

#: Verb name -> the capability flag that promises it.
VERB_FLAGS: Mapping[str, str] = {
    "sample": "can_sample",
    "encode": "can_encode",
    "decode": "can_decode",
    "discriminate": "can_discriminate",
}


class GenerativeModel(nn.Module, Generic[ConfigT]):
    """Base class of every model family.

    Subclasses set the class attributes below, build their networks and optimizers in
    ``__init__`` (keyword-only after ``config``), and implement ``train_step`` plus the verbs
    their :class:`Capabilities` promise.

    The class is generic over its config: ``class MyModel(GenerativeModel[MyConfig])`` with
    ``Config = MyConfig`` types ``self.config`` as ``MyConfig``, so a family reads its own fields
    without casts. (Type parameters do not exist at run time: ``Config`` is what the registry,
    checkpoints and the CLI build configs from, and ``__init__`` checks ``config`` against it.)

    Conventions:
        * Inputs and outputs follow :mod:`genwidgets.data.base`: images in [0, 1] as
          (N, C, H, W), points as (N, D).
        * ``train_step`` returns 0-dim detached tensors (or floats); the run reads them only at
          its logging interval, so the hot loop never forces a host synchronisation on GPUs.
        * Optimizers live in ``self.optimizers`` (name -> optimizer) so checkpoints include them.
        * Networks never call ``.cuda()``: the runtime places the model, and
          ``self.runtime.autocast()`` / ``self.runtime.backward_step()`` handle precision.
    """

    #: Registered name, lowercase, e.g. ``"dcgan"``.
    name: ClassVar[str] = ""
    #: One line citing the paper the family implements.
    paper: ClassVar[str] = ""
    #: The family's configuration dataclass.
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    #: What the family can do.
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: What ``discriminate`` returns: ``"probability"`` (D(x) in (0, 1)) or ``"critic"``
    #: (unbounded scores, e.g. a WGAN critic; widgets use a symmetric colour scale).
    score_kind: ClassVar[str] = "probability"
    #: What one ``encode`` call costs: ``"forward"`` (one pass of an encoder network) or
    #: ``"optimization"`` (an iterative search per call, e.g. GAN inversion: seconds per batch).
    #: Widgets encode thousands of points only when it is ``"forward"``.
    encode_cost: ClassVar[str] = "forward"
    #: Data kinds the family trains on (``"images"``, ``"points"``).
    data_kinds: ClassVar[tuple[str, ...]] = ("images", "points")

    config: ConfigT

    def __init__(self, config: ConfigT, *, data_spec: DataSpec, runtime: Runtime | None = None) -> None:
        super().__init__()
        if not isinstance(config, self.Config):
            raise ConfigError(f"{self.name} expects a {self.Config.__name__}, got {type(config).__name__}")
        if data_spec.kind not in self.data_kinds:
            raise DataError(
                f"model {self.name!r} trains on {' or '.join(self.data_kinds)} data, but the data is "
                f"{data_spec.kind} of shape {data_spec.shape}; choose an image dataset (e.g. 'mnist') "
                "or a model that accepts this kind"
            )
        if self.capabilities.conditional and not data_spec.num_classes:
            raise DataError(
                f"model {self.name!r} is conditional and needs labelled data, but the data has no labels; "
                "pass labels=... or choose a labelled dataset"
            )
        self.config = config
        self.data_spec = data_spec
        # Without a runtime: plain CPU fp32, and no reseeding or thread changes behind the caller's back.
        self.runtime = runtime or Runtime(device=torch.device("cpu"))
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    # ---- the verbs -------------------------------------------------------------------
    def train_step(self, batch: Batch) -> dict[str, torch.Tensor | float]:
        """Run one optimisation step on ``batch`` and return named scalar metrics."""
        raise NotImplementedError(f"{type(self).__name__} must implement train_step")

    def sample(self, n: int, *, z: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Draw ``n`` examples (or decode the given noise ``z``) in data space."""
        raise self._missing("sample")

    def encode(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Map data ``x`` to latent codes of shape (N, latent_dim)."""
        raise self._missing("encode")

    def decode(self, z: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Map latent codes ``z`` (N, latent_dim) to data space."""
        raise self._missing("decode")

    def discriminate(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Score data ``x``: shape (N,) (or (N, h, w) for patch critics); higher means more real."""
        raise self._missing("discriminate")

    def _missing(self, verb: str) -> CapabilityError:
        flag = VERB_FLAGS[verb]
        return CapabilityError(
            f"model {self.name!r} cannot {verb}: its family does not have the {flag!r} capability "
            f"(it has: {', '.join(self.capabilities.names()) or 'none'})"
        )

    # ---- shared helpers --------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        """Size of the latent code; families with a latent space override this."""
        return int(getattr(self.config, "latent_dim", 0))

    @property
    def device(self) -> torch.device:
        """The device the runtime placed the model on."""
        return self.runtime.device

    def fixed_noise(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Noise (and labels) that sample grids use at every step, so grids are comparable.

        The default is 64 codes for images (512 for points, so a 2-D scatter shows the
        distribution), drawn from a generator seeded by ``config.seed``; for conditional
        models, labels cycle through the classes (one row per class).
        """
        n = 64 if self.data_spec.kind == "images" else 512
        classes = min(10, self.data_spec.num_classes or 1)
        per_class = 10 if self.data_spec.kind == "images" else 64
        if self.capabilities.conditional:
            n = per_class * classes
        gen = torch.Generator().manual_seed(self.config.seed + 1)
        z = torch.randn(n, max(self.latent_dim, 1), generator=gen).to(self.device)
        labels = None
        if self.capabilities.conditional:
            labels = torch.arange(classes).repeat_interleave(per_class).to(self.device)
        return z, labels

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """Eval mode (batch norm uses its running statistics and does not update them) for the block.

        The verbs run in whatever mode the module is in; widgets and metrics that call them on a
        model that is training wrap the calls in this (under the run's step lock), so looking at
        a model never changes its training trajectory.
        """
        was_training = self.training
        self.eval()
        try:
            yield
        finally:
            self.train(was_training)

    @torch.no_grad()
    def preview(self) -> torch.Tensor:
        """Samples from :meth:`fixed_noise` in eval mode (what a run's sample grid shows)."""
        with self.evaluating():
            z, labels = self.fixed_noise()
            return self.sample(len(z), z=z, labels=labels).float().cpu()

    def apply_config(self, config: ConfigT) -> None:
        """Adopt a new config whose editable fields changed (learning rates, step ratios, beta).

        The base updates ``self.config`` and any optimizer whose name has a matching
        ``lr_<name>`` (or ``lr`` for a single optimizer) field. Families with other live
        fields override this and call ``super()``.
        """
        self.config = config
        for name, opt in self.optimizers.items():
            lr = getattr(config, f"lr_{name}", None)
            if lr is None and len(self.optimizers) == 1:
                lr = getattr(config, "lr", None)
            if lr is not None:
                for group in opt.param_groups:
                    group["lr"] = lr

    def describe(self) -> dict[str, Any]:
        """Name, paper, capabilities and config, JSON-ready."""
        return {
            "name": self.name,
            "paper": self.paper,
            "capabilities": self.capabilities.to_dict(),
            "score_kind": self.score_kind,
            "encode_cost": self.encode_cost,
            "config": self.config.to_dict(),
            "data": self.data_spec.to_dict(),
            "parameters": sum(p.numel() for p in self.parameters()),
        }


def implemented_verbs(cls: type[GenerativeModel]) -> set[str]:
    """Verbs that ``cls`` (or a base between it and GenerativeModel) actually implements."""
    return {verb for verb in VERB_FLAGS if getattr(cls, verb) is not getattr(GenerativeModel, verb)}


def check_model_class(cls: Any) -> list[str]:
    """Return every reason ``cls`` is not a valid model family (empty when it is)."""
    if not isinstance(cls, type) or not issubclass(cls, GenerativeModel):
        return [f"{cls!r} is not a subclass of genwidgets.GenerativeModel"]
    problems = []
    if not cls.name or not cls.name.replace("_", "").replace("-", "").isalnum() or cls.name != cls.name.lower():
        problems.append(f"{cls.__name__}.name must be a non-empty lowercase identifier, got {cls.name!r}")
    if not (isinstance(cls.Config, type) and issubclass(cls.Config, ModelConfig)
            and dataclasses.is_dataclass(cls.Config)):
        problems.append(f"{cls.__name__}.Config must be a dataclass deriving from ModelConfig")
    if cls.score_kind not in ("probability", "critic"):
        problems.append(f"{cls.__name__}.score_kind must be 'probability' or 'critic', got {cls.score_kind!r}")
    if cls.encode_cost not in ("forward", "optimization"):
        problems.append(f"{cls.__name__}.encode_cost must be 'forward' or 'optimization', got {cls.encode_cost!r}")
    if cls.train_step is GenerativeModel.train_step:
        problems.append(f"{cls.__name__} does not implement train_step")
    have = implemented_verbs(cls)
    for verb, flag in VERB_FLAGS.items():
        promised = getattr(cls.capabilities, flag)
        if promised and verb not in have:
            problems.append(f"{cls.__name__} sets {flag}=True but does not implement {verb}()")
        if not promised and verb in have:
            problems.append(f"{cls.__name__} implements {verb}() but sets {flag}=False")
    return problems
