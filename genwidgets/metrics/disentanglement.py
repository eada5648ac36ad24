"""Disentanglement on data with ground-truth factors (dSprites): MIG and the FactorVAE metric.

* MIG: Chen, Li, Grosse & Duvenaud 2018, "Isolating Sources of Disentanglement in VAEs": for each
  factor v_k, the gap between the two largest mutual informations I(z_j; v_k) over latent
  dimensions, divided by the factor's entropy H(v_k), averaged over factors. As in
  disentanglement_lib (Locatello et al. 2019), each dimension of the representation (the encoder's
  posterior mean) is discretised into 20 equal-width bins and the MI is the plug-in estimate on
  ``n`` random examples (Chen et al. estimate it from q(z|x) instead; the binned version is the
  common one for comparing numbers).
* FactorVAE metric: Kim & Mnih 2018, "Disentangling by Factorising": each vote fixes one factor
  (chosen at random) in a batch of ``batch_size`` examples whose other factors are random,
  normalises the batch's per-dimension variance of the representation by its variance over the
  whole data set, and takes the dimension with the least normalised variance; a majority-vote
  classifier maps each dimension to the factor it most often wins for, and the score is its
  accuracy on fresh votes. Dimensions whose global standard deviation is below ``prune_threshold``
  (collapsed to the prior) are left out, as in the paper. Constant factors and factors named in
  ``skip_factors`` (the original's ``color``, constant in dSprites) are never chosen.

The data must provide ``factor_names``, ``factor_sizes``, ``factors(indices)`` (factor indices per
example) and, for the FactorVAE metric, ``index_of(**factor_indices)``; see
:class:`~genwidgets.data.dsprites.DSpritesData`. ``represent`` maps example indices to codes, e.g.
``lambda idx: model.encode(data.get_batch(idx).x)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..errors import DataError

#: Maps example indices (B,) to representations (B, D).
Represent = Callable[[torch.Tensor], torch.Tensor]


def has_factors(data: Any) -> bool:
    """True if ``data`` carries ground-truth factors this module can use (``factors``, names, sizes, ``index_of``)."""
    return all(hasattr(data, a) for a in ("factor_names", "factor_sizes")) and all(
        callable(getattr(data, a, None)) for a in ("factors", "index_of")
    )


def mutual_info_score(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information (nats) of two discrete label arrays (scikit-learn's, imported on first use)."""
    from sklearn.metrics import mutual_info_score as sk_mutual_info_score

    return float(sk_mutual_info_score(a, b))


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Bin each column of ``codes`` (N, D) into ``bins`` equal-width bins over its range (disentanglement_lib)."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram(codes[:, j], bins)[1]
        out[:, j] = np.digitize(codes[:, j], edges[:-1])
    return out


def mutual_information_matrix(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Plug-in mutual information (nats) between each discrete code column (N, D) and factor column (N, K): (D, K)."""
    return np.array([[mutual_info_score(factors[:, k], codes[:, j]) for k in range(factors.shape[1])]
                     for j in range(codes.shape[1])])


def mig(codes: torch.Tensor | np.ndarray, factors: torch.Tensor | np.ndarray, *, bins: int = 20) -> dict[str, Any]:
    """Mutual Information Gap (Chen et al. 2018) of representations ``codes`` (N, D) given ``factors`` (N, K).

    Factors with zero entropy in the sample are skipped. With a single latent dimension the gap is
    the whole normalised MI.

    Returns:
        ``mig`` (mean over factors), ``per_factor`` (gap / entropy, per factor column), ``n``, ``bins``.
    """
    z = np.asarray(codes.detach().cpu() if isinstance(codes, torch.Tensor) else codes, dtype=np.float64)
    v = np.asarray(factors.detach().cpu() if isinstance(factors, torch.Tensor) else factors, dtype=np.int64)
    if z.ndim != 2 or v.ndim != 2 or len(z) != len(v):
        raise DataError(f"codes and factors must be (N, D) and (N, K), got {z.shape} and {v.shape}")
    mi = mutual_information_matrix(discretize(z, bins), v)  # (D, K)
    entropy = np.array([mutual_info_score(v[:, k], v[:, k]) for k in range(v.shape[1])])
    top = np.sort(mi, axis=0)[::-1]
    second = top[1] if len(top) > 1 else np.zeros(v.shape[1])
    per_factor = [float((top[0, k] - second[k]) / entropy[k]) if entropy[k] > 0 else None for k in range(v.shape[1])]
    valid = [g for g in per_factor if g is not None]
    if not valid:
        raise DataError("every factor is constant in the sample; MIG is undefined")
    return {"mig": float(np.mean(valid)), "per_factor": per_factor, "n": len(z), "bins": bins}


def _random_factor_codes(sizes: Sequence[int], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1)


def _index_of(data: Any, codes: np.ndarray) -> torch.Tensor:
    return data.index_of(**{name: torch.from_numpy(codes[:, i]) for i, name in enumerate(data.factor_names)})


def _represent_batched(represent: Represent, indices: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    out = [represent(indices[i : i + batch_size]).detach().float().cpu().numpy()
           for i in range(0, len(indices), batch_size)]
    return np.concatenate(out).astype(np.float64)


def mig_score(data: Any, represent: Represent, *, n: int = 10_000, bins: int = 20, seed: int = 0) -> dict[str, Any]:
    """MIG (Chen et al. 2018) of ``represent`` on ``n`` examples of ``data`` drawn uniformly at random (seeded).

    ``per_factor`` is returned as a ``{factor name: value}`` mapping.
    """
    if not has_factors(data):
        raise DataError(f"{getattr(data, 'name', 'data')!r} has no ground-truth factors")
    rng = np.random.default_rng(seed)
    indices = torch.from_numpy(rng.choice(len(data), size=min(n, len(data)), replace=False))
    facts = data.factors(indices)
    factors = np.stack([facts[name].numpy() for name in data.factor_names], axis=1)
    result = mig(_represent_batched(represent, indices), factors, bins=bins)
    result["per_factor"] = dict(zip(data.factor_names, result["per_factor"], strict=True))
    return result


def factor_vae_score(
    data: Any,
    represent: Represent,
    *,
    n_train: int = 500,
    n_eval: int = 250,
    batch_size: int = 64,
    n_variance: int = 10_000,
    prune_threshold: float = 0.05,
    skip_factors: Sequence[str] = ("color",),
    seed: int = 0,
) -> dict[str, Any]:
    """The FactorVAE disentanglement metric (Kim & Mnih 2018) of ``represent`` on ``data``; see the module doc.

    Args:
        data: Data with ground-truth factors and ``index_of``.
        represent: Example indices (B,) -> representations (B, D).
        n_train: Votes to fit the majority-vote classifier (Kim & Mnih: 10,000 with L = 100, here fewer
            with L = 64 to run in about a minute on a CPU).
        n_eval: Votes to score it on.
        batch_size: L, the examples per vote.
        n_variance: Random examples for the global variance of each dimension.
        prune_threshold: Dimensions with a global standard deviation below this are ignored.
        skip_factors: Factor names never fixed.
        seed: Seed of every random choice.

    Returns:
        ``score`` (eval accuracy), ``train_accuracy``, ``num_active_dims``, ``factors`` (those voted on),
        ``dim_to_factor`` (the classifier), ``n_train``, ``n_eval``, ``batch_size``.
    """
    if not has_factors(data):
        raise DataError(f"{getattr(data, 'name', 'data')!r} has no ground-truth factors with index_of")
    rng = np.random.default_rng(seed)
    names, sizes = list(data.factor_names), list(data.factor_sizes)
    usable = [k for k, (name, size) in enumerate(zip(names, sizes, strict=True))
              if size > 1 and name not in skip_factors]
    if not usable:
        raise DataError("no factor varies; the FactorVAE metric is undefined")
    idx = _index_of(data, _random_factor_codes(sizes, n_variance, rng))
    codes = _represent_batched(represent, idx)
    global_var = codes.var(axis=0, ddof=1)
    active = np.sqrt(global_var) >= prune_threshold
    base = {"factors": [names[k] for k in usable], "n_train": n_train, "n_eval": n_eval, "batch_size": batch_size,
            "num_active_dims": int(active.sum())}
    if not active.any():
        return {**base, "score": 0.0, "train_accuracy": 0.0, "dim_to_factor": {}}
    active_dims = np.flatnonzero(active)

    def votes(count: int) -> np.ndarray:
        table = np.zeros((len(names), len(active_dims)), dtype=np.int64)
        chosen = rng.choice(usable, size=count)
        batches = []
        for k in chosen:
            c = _random_factor_codes(sizes, batch_size, rng)
            c[:, k] = c[0, k]
            batches.append(c)
        reps = _represent_batched(represent, _index_of(data, np.concatenate(batches)))
        reps = reps.reshape(count, batch_size, -1)
        for k, rep in zip(chosen, reps, strict=True):
            local = rep.var(axis=0, ddof=1)
            table[k, np.argmin(local[active_dims] / global_var[active_dims])] += 1
        return table

    train_votes = votes(n_train)
    classifier = train_votes.argmax(axis=0)  # (active dims,) -> factor
    train_acc = train_votes[classifier, np.arange(len(active_dims))].sum() / max(train_votes.sum(), 1)
    eval_votes = votes(n_eval)
    eval_acc = eval_votes[classifier, np.arange(len(active_dims))].sum() / max(eval_votes.sum(), 1)
    return {**base, "score": float(eval_acc), "train_accuracy": float(train_acc),
            "dim_to_factor": {int(d): names[int(k)] for d, k in zip(active_dims, classifier, strict=True)}}
