"""Held-out likelihood of latent-variable models: negative ELBO and the importance-weighted NLL.

* ELBO: Kingma & Welling 2014, "Auto-Encoding Variational Bayes":
  ``log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z))``.
* IW-NLL: Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders" (the estimator of
  Rezende et al. 2014, appendix E):
  ``log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K``, z_k ~ q(z|x).
  Its expectation is a lower bound on log p(x) that rises monotonically with K (Burda et al., thm. 1),
  so the NLL estimate falls towards -log p(x) as K grows and equals the ELBO estimate at K = 1.

A model qualifies through :class:`LatentVariableModel` (a protocol, checked by the methods a
model has, never by its name):

* ``posterior(x)`` -> ``(mean, logvar)``, each (N, latent_dim): the diagonal Gaussian q(z|x);
* ``log_likelihood(x, z)`` -> (N,): log p(x|z), summed over the data dimensions;
* optionally ``log_prior(z)`` -> (N,): log p(z); without it p(z) = N(0, I).

All numbers are in nats per example.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import torch

from ..data.base import GenData
from ..errors import CapabilityError

_LOG_2PI = math.log(2 * math.pi)


@runtime_checkable
class LatentVariableModel(Protocol):
    """What the likelihood metrics need from a model (see the module docstring)."""

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance (N, latent_dim) of q(z|x)."""
        ...

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Return log p(x|z) per example (N,), summed over data dimensions."""
        ...


def has_posterior(model: Any) -> bool:
    """True if ``model`` implements :class:`LatentVariableModel` (``posterior`` and ``log_likelihood``)."""
    return callable(getattr(model, "posterior", None)) and callable(getattr(model, "log_likelihood", None))


def _require(model: Any) -> None:
    if not has_posterior(model):
        raise CapabilityError(
            f"{type(model).__name__} has no posterior(x) -> (mean, logvar) and log_likelihood(x, z) -> (N,) "
            "methods, which the ELBO and importance-weighted NLL need"
        )


def log_normal(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Return log N(z; mean, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (((z - mean) ** 2) * torch.exp(-logvar) + logvar + _LOG_2PI).sum(-1)


def _log_prior(model: Any, z: torch.Tensor) -> torch.Tensor:
    fn = getattr(model, "log_prior", None)
    if callable(fn):
        return fn(z).double()
    return -0.5 * (z**2 + _LOG_2PI).sum(-1)


@torch.no_grad()
def iw_log_likelihood(model: Any, x: torch.Tensor, *, k: int = 1000, chunk: int = 2000) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) (N,) with ``k`` samples from q(z|x) (Burda et al. 2016).

    z is drawn from torch's global generator (seed it for reproducible numbers). Work is done in
    chunks of at most ``chunk`` (example, sample) pairs through the decoder.
    """
    _require(model)
    mean, logvar = (t.double() for t in model.posterior(x))
    n, d = mean.shape
    per_pass = max(1, chunk // max(n, 1))
    log_w = []
    for start in range(0, k, per_pass):
        s = min(per_pass, k - start)
        eps = torch.randn(s, n, d, dtype=torch.float64, device=mean.device)
        z = mean + torch.exp(0.5 * logvar) * eps  # (s, n, d)
        xs = x.unsqueeze(0).expand(s, *x.shape).reshape(s * n, *x.shape[1:])
        log_px_z = model.log_likelihood(xs, z.reshape(s * n, d).float()).double().reshape(s, n)
        log_pz = _log_prior(model, z.reshape(s * n, d)).reshape(s, n)
        log_qz = log_normal(z, mean, logvar)
        log_w.append(log_px_z + log_pz - log_qz)
    return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)


@torch.no_grad()
def elbo(model: Any, x: torch.Tensor, *, samples: int = 1) -> torch.Tensor:
    """ELBO (N,) of ``x``: ``E_q[log p(x|z)]`` (``samples`` draws) minus KL(q || p) (Kingma & Welling 2014).

    The KL term is in closed form for the standard normal prior (appendix B of the paper) and a
    Monte Carlo estimate from the same draws for a model with its own ``log_prior``.
    """
    _require(model)
    mean, logvar = (t.double() for t in model.posterior(x))
    total = torch.zeros(len(mean), dtype=torch.float64, device=mean.device)
    custom_prior = callable(getattr(model, "log_prior", None))
    for _ in range(samples):
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        total += model.log_likelihood(x, z.float()).double()
        if custom_prior:
            total += _log_prior(model, z) - log_normal(z, mean, logvar)
    total /= samples
    if not custom_prior:
        total -= 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(1)
    return total


def likelihood_metrics(
    model: Any,
    data: GenData,
    *,
    n: int | None = 1000,
    k: int = 1000,
    elbo_samples: int = 10,
    batch_size: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Negative ELBO and importance-weighted NLL (nats per example) of ``model`` on ``data``.

    ``data`` should be held-out examples (e.g. the ``test`` part of
    :func:`~genwidgets.data.splits.train_test_split`). The first ``n`` examples (all if None) are
    scored; z draws use a generator seeded with ``seed`` in a forked RNG state. The model is put in
    eval mode for the duration (:meth:`GenerativeModel.evaluating` where it exists).

    Returns:
        ``neg_elbo`` (Kingma & Welling 2014, ``elbo_samples`` draws per example), ``iw_nll``
        (Burda et al. 2016, ``k`` samples), their standard errors over examples, ``k`` and ``n``.
    """
    import contextlib

    _require(model)
    count = len(data) if n is None else min(n, len(data))
    device = getattr(model, "device", torch.device("cpu"))
    mode = model.evaluating() if hasattr(model, "evaluating") else contextlib.nullcontext()
    neg_elbo, nll = [], []
    with mode, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for start in range(0, count, batch_size):
            x = data.get_batch(torch.arange(start, min(start + batch_size, count))).x.to(device).float()
            neg_elbo.append(-elbo(model, x, samples=elbo_samples).cpu())
            nll.append(-iw_log_likelihood(model, x, k=k).cpu())
    ne, nl = torch.cat(neg_elbo), torch.cat(nll)

    def stderr(t: torch.Tensor) -> float:
        return float(t.std() / math.sqrt(len(t))) if len(t) > 1 else 0.0

    return {"neg_elbo": float(ne.mean()), "neg_elbo_stderr": stderr(ne), "iw_nll": float(nl.mean()),
            "iw_nll_stderr": stderr(nl), "k": k, "n": count}
