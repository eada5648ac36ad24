"""Small helpers every built-in family uses: seeded construction, input checks, MLPs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from genwidgets.data.base import DataSpec
from genwidgets.errors import DataError


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's CPU generator seeded by ``seed``, then restore it.

    Networks are built (and initialised) on the CPU inside this block, so two models with the
    same ``config.seed`` get identical weights, and building a model never disturbs the global
    random stream a run's checkpoints capture. Only the CPU generator is touched: CUDA
    generators are neither reseeded nor initialised.
    """
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        yield


def as_fp32(t: torch.Tensor) -> torch.Tensor:
    """``t.float()``, skipping the call when ``t`` already is float32 (the common fp32 case).

    Losses are computed in float32 whatever autocast produced; on small networks the dispatch of
    a no-op ``.float()`` is a measurable part of a step, so the hot paths use this instead.
    """
    return t if t.dtype is torch.float32 else t.float()


def as_scores(out: torch.Tensor, n: int) -> torch.Tensor:
    """A network's per-example output as scores (N,); reshaped only when it is not (N,) already.

    A reshape to the same shape is not free in training: it adds a view node to the autograd
    graph, run again in every backward pass.
    """
    return out if out.shape == (n,) else out.reshape(n)


def check_input(x: torch.Tensor, spec: DataSpec, *, model: str, verb: str) -> None:
    """Raise :class:`DataError` unless ``x`` is a batch of examples shaped like ``spec``."""
    if not isinstance(x, torch.Tensor):
        raise DataError(f"{model}.{verb} expects a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape[1:]) != tuple(spec.shape) or x.dim() != len(spec.shape) + 1:
        raise DataError(
            f"{model}.{verb} expects a batch shaped (N, {', '.join(map(str, spec.shape))}) "
            f"({spec.kind} in the data's layout), got {tuple(x.shape)}"
        )


def check_latent(z: torch.Tensor, latent_dim: int, *, model: str, verb: str) -> None:
    """Raise :class:`DataError` unless ``z`` is shaped (N, latent_dim)."""
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != latent_dim:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise DataError(f"{model}.{verb} expects latent codes shaped (N, {latent_dim}), got {shape}")


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    *,
    activation: Callable[[], nn.Module] = nn.ReLU,
    norm: Callable[[int], nn.Module] | None = None,
    dropout: float = 0.0,
) -> nn.Sequential:
    """The one fully connected stack of the built-ins: ``in -> hidden[0] -> ... -> hidden[-1] -> out``.

    Each hidden layer is ``Linear -> [norm(width)] -> activation() -> [Dropout(dropout)]`` (norm
    only when given, dropout only when > 0), and the last layer is a plain ``Linear`` (callers add
    the output non-linearity). The modules sit flat in one ``nn.Sequential`` in that order, so the
    state_dict keys are ``0.weight``, ``0.bias``, ... and are created (and initialised, inside
    :func:`seeded`) in that order; a caller that needs the layers inside a larger ``Sequential``
    splices them in with ``[*mlp(...)]``, which keeps the same order.

    Args:
        in_features: Width of the input.
        hidden: Widths of the hidden layers, in order (empty: one linear layer).
        out_features: Width of the output.
        activation: Builds the activation after each hidden layer, e.g. ``nn.ReLU`` or
            ``lambda: nn.LeakyReLU(0.2)``.
        norm: Builds a normalisation for a hidden width, e.g. ``nn.BatchNorm1d``; None for none.
        dropout: Dropout probability after each hidden activation (0: no dropout module).
    """
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if norm is not None:
            layers.append(norm(h))
        layers.append(activation())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def refuse_labels(labels: torch.Tensor | None, *, model: str, verb: str) -> None:
    """Raise :class:`DataError` if ``labels`` are given to a family that is not conditional.

    Dropping them silently would let a caller believe it asked for (say) a 7 and got one.
    """
    if labels is not None:
        raise DataError(
            f"{model}.{verb} got labels=..., but model {model!r} is not conditional and takes no class labels; "
            "leave labels out, or train a conditional family (e.g. 'cgan') to choose the class"
        )


def check_labels(labels: torch.Tensor | None, n: int, num_classes: int | None, *, model: str, verb: str,
                 check_range: bool = True) -> torch.Tensor:
    """Return ``labels`` if they are ``n`` class indices (N,) in ``[0, num_classes)``, else raise :class:`DataError`.

    ``check_range=False`` skips the value check, which reads the labels on the host (a device
    synchronisation): training steps use it, the interactive verbs do not.
    """
    if labels is None:
        raise DataError(
            f"{model}.{verb} is conditional and needs labels=...: class indices (N,) in [0, {num_classes})"
        )
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.shape[0] != n:
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise DataError(f"{model}.{verb} expects labels shaped ({n},), one per example, got {shape}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise DataError(f"{model}.{verb} expects integer class indices, got dtype {labels.dtype}")
    if not (check_range and num_classes is not None and labels.numel()):
        return labels
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise DataError(
            f"{model}.{verb} got labels in [{int(labels.min())}, {int(labels.max())}], "
            f"outside the {num_classes} classes [0, {num_classes})"
        )
    return labels
