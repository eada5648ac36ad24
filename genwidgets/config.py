"""Validated configuration dataclasses shared by every model family.

A family's ``Config`` is a dataclass deriving from :class:`ModelConfig`. Fields carry
their constraints in ``metadata`` (see :func:`param`), and construction validates them, so a
bad value fails at once with a :class:`~genwidgets.errors.ConfigError` naming the field and
the allowed values, instead of deep inside a forward pass.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from .errors import ConfigError


def param(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    choices: Sequence[Any] | None = None,
    help: str = "",
    editable: bool = False,
) -> Any:
    """Declare a config field with its allowed range and documentation.

    Bounds apply to numbers and to each item of a tuple. ``low``/``high`` are inclusive
    (``low <= value <= high``); ``gt``/``lt`` are exclusive, for a bound the value must not reach:
    ``param(1e-3, gt=0.0, high=1.0)`` accepts ``0 < value <= 1`` (a learning rate), ``lt=1.0`` an
    Adam beta. Give at most one lower and one upper bound. Error messages and
    :meth:`ModelConfig.schema`'s ``allowed`` (what ``list_models()`` and ``genwidgets plugins
    --json`` show) say which: ``value > 0.0`` or ``value >= 0.0``.

    The field's ``metadata`` holds the bound values as ``low``/``high`` whichever kind they are,
    with ``low_inclusive``/``high_inclusive`` saying which (code that reads only ``low``/``high``,
    such as an input's min and max, still gets the right limits).

    Args:
        default: The default value (a tuple for sequence fields).
        low: Smallest allowed value (inclusive: ``value >= low``).
        high: Largest allowed value (inclusive: ``value <= high``).
        gt: Exclusive lower bound (``value > gt``), instead of ``low``.
        lt: Exclusive upper bound (``value < lt``), instead of ``high``.
        choices: The only allowed values.
        help: One line describing the field; shown by ``genwidgets plugins`` and in errors.
        editable: True if the field may be changed while a run is training (a learning rate,
            the D:G step ratio, beta). :meth:`ModelConfig.replace` accepts any field, but a
            :class:`~genwidgets.runtime.run.Run` only lets editable ones change live.

    Raises:
        TypeError: both ``low`` and ``gt``, or both ``high`` and ``lt``, are given.
    """
    if low is not None and gt is not None:
        raise TypeError(f"param() takes low= (inclusive) or gt= (exclusive), not both; got low={low!r}, gt={gt!r}")
    if high is not None and lt is not None:
        raise TypeError(f"param() takes high= (inclusive) or lt= (exclusive), not both; got high={high!r}, lt={lt!r}")
    metadata = {"low": gt if gt is not None else low, "low_inclusive": gt is None,
                "high": lt if lt is not None else high, "high_inclusive": lt is None,
                "choices": tuple(choices) if choices else None, "help": help, "editable": editable}
    return dataclasses.field(default=default, metadata=metadata)


def _base_type(annotation: Any) -> Any:
    """Reduce ``int | None`` to ``int`` and ``tuple[int, ...]`` to ``tuple``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else annotation
    return origin or annotation


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Base of every model family's configuration.

    Subclass it as a frozen dataclass and declare fields with :func:`param`. Presets are
    named partial overrides: every family provides ``"tiny"`` (seconds on a CPU, for tests)
    and the defaults are the real recipe from the paper.
    """

    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    batch_size: int = param(64, low=1, high=65536, help="examples per training step")
    seed: int = param(0, low=0, high=2**31 - 1, help="seed for weights, fixed noise and data order")

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            self._check_field(field, hints[field.name])

    def _check_field(self, field: dataclasses.Field, annotation: Any) -> None:
        name, value, meta = field.name, getattr(self, field.name), field.metadata
        allowed = self.describe_allowed(field)
        base = _base_type(annotation)
        if value is None and type(None) in typing.get_args(annotation):
            return
        if base is float and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(self, name, float(value))
            value = float(value)
        if base is tuple and isinstance(value, list):
            object.__setattr__(self, name, tuple(value))
            value = tuple(value)
        if base in (int, float, str, bool, tuple) and (
            not isinstance(value, base) or (base is int and isinstance(value, bool))
        ):
            raise ConfigError(
                f"{type(self).__name__}.{name} must be {base.__name__}, got {value!r}; allowed: {allowed}"
            )
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, float) and not math.isfinite(item):
                raise ConfigError(f"{type(self).__name__}.{name} must be finite, got {value!r}")
            if meta.get("choices") and item not in meta["choices"]:
                raise ConfigError(f"{type(self).__name__}.{name}={value!r} is not allowed; allowed: {allowed}")
            if not self.within_bounds(field, item):
                raise ConfigError(f"{type(self).__name__}.{name}={value!r} is out of range; allowed: {allowed}")

    @staticmethod
    def within_bounds(field: dataclasses.Field, value: Any) -> bool:
        """True if the number ``value`` lies within ``field``'s bounds (inclusive or exclusive, see :func:`param`)."""
        meta = field.metadata
        low, high = meta.get("low"), meta.get("high")
        if low is not None and (value < low if meta.get("low_inclusive", True) else value <= low):
            return False
        return not (high is not None and (value > high if meta.get("high_inclusive", True) else value >= high))

    @staticmethod
    def describe_allowed(field: dataclasses.Field) -> str:
        """Say in words which values a field accepts, e.g. ``'1 <= value <= 4096'`` or ``'0.0 < value <= 1.0'``."""
        meta = field.metadata
        if meta.get("choices"):
            return "one of " + ", ".join(repr(c) for c in meta["choices"])
        low, high = meta.get("low"), meta.get("high")
        above = "<=" if meta.get("low_inclusive", True) else "<"
        below = "<=" if meta.get("high_inclusive", True) else "<"
        if low is not None and high is not None:
            return f"{low} {above} value {below} {high}"
        if low is not None:
            return f"value {above.replace('<', '>')} {low}"
        if high is not None:
            return f"value {below} {high}"
        return "any value of the declared type"

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None = None, *, preset: str | None = None) -> Self:
        """Build a config from a preset and overrides, rejecting unknown keys by name."""
        merged: dict[str, Any] = {}
        if preset is not None:
            if preset not in cls.presets:
                raise ConfigError(
                    f"{cls.__name__} has no preset {preset!r}; available: {', '.join(sorted(cls.presets)) or 'none'}"
                )
            merged.update(cls.presets[preset])
        merged.update(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise ConfigError(
                f"{cls.__name__} has no field {', '.join(map(repr, unknown))}; known fields: {', '.join(sorted(known))}"
            )
        return cls(**merged)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as JSON-ready values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def replace(self, **changes: Any) -> Self:
        """Return a validated copy with ``changes`` applied; unknown names raise ConfigError."""
        return type(self).from_dict({**dataclasses.asdict(self), **changes})

    @classmethod
    def editable_fields(cls) -> tuple[str, ...]:
        """Names of fields that may change while a run trains (declared ``editable=True``)."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("editable"))

    @classmethod
    def schema(cls) -> list[dict[str, Any]]:
        """Describe every field: name, type, default, allowed values, help, editable."""
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            default = f.default
            out.append({
                "name": f.name,
                "type": getattr(_base_type(hints[f.name]), "__name__", str(hints[f.name])),
                "default": list(default) if isinstance(default, tuple) else default,
                "allowed": cls.describe_allowed(f),
                "help": f.metadata.get("help", ""),
                "editable": bool(f.metadata.get("editable")),
            })
        return out
