"""``evaluate``: every metric that applies to a model and its data, as one JSON-ready dict.

Metric groups are chosen from the data's properties and the model's capabilities and protocols,
never from the model's name:

* ``modes`` — data with mode centres (``modes``, ``mode_std``: ring, grid) and a model that samples:
  modes covered, % high quality, reverse KL (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018).
* ``images`` — labelled images and a model that samples: FID (Heusel et al. 2017) and KID
  (Bińkowski et al. 2018) in a classifier's feature space, each next to its real-vs-real floor,
  improved precision/recall (Kynkäänniemi et al. 2019, k = 3), the classes the classifier sees in
  the samples, and for conditional models the classifier's accuracy on samples per requested label.
  Skipped by default for data with ground-truth factors (dSprites: its classifier would take many
  CPU minutes to train); ask for it with ``metrics=["images"]``.
* ``likelihood`` — a model with ``posterior(x)`` and ``log_likelihood(x, z)``
  (:class:`~genwidgets.metrics.likelihood.LatentVariableModel`): negative ELBO (Kingma & Welling 2014)
  and importance-weighted NLL (Burda et al. 2016) on the held-out split.
* ``disentanglement`` — data with ground-truth factors and a model that encodes: MIG (Chen et al.
  2018) and the FactorVAE metric (Kim & Mnih 2018).

Plugins add metrics through the ``register_metrics`` hook (see :mod:`genwidgets.hookspecs`): each runs
after the built-in groups when its ``applies(model, data)`` allows, under its own name, and its
plugin is named in ``providers``. A plugin metric that raises is reported in ``failed`` (naming the
plugin) and the rest of the evaluation goes on.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from ..data.base import GenData
from ..data.splits import SPLIT_SEED, TEST_FRACTION, disjoint_indices, train_test_split
from ..errors import ConfigError, DataError
from ..model import GenerativeModel
from .classifier import ClassifierRecipe, get_classifier
from .disentanglement import factor_vae_score, has_factors, mig_score
from .features import ClassifierFeatures, extract_features
from .likelihood import has_posterior, likelihood_metrics
from .toys import DEFAULT_SAMPLES, mode_metrics

#: Every metric group, in the order they run.
GROUPS: tuple[str, ...] = ("modes", "images", "likelihood", "disentanglement")
#: Default examples per group (``n=None``).
DEFAULT_N: dict[str, int] = {"modes": DEFAULT_SAMPLES, "images": 2000, "likelihood": 1000, "disentanglement": 10_000}


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch (CPU, and ``device`` if it is a GPU) for the block, restoring the caller's RNG state after."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@torch.no_grad()
def draw_samples(
    model: GenerativeModel, n: int, *, labels: torch.Tensor | None = None, seed: int = 0, batch_size: int = 500
) -> torch.Tensor:
    """``n`` samples (CPU float32) from ``model`` in eval mode, reproducibly from ``seed``."""
    out = []
    with seeded(seed, model.device), model.evaluating():
        for i in range(0, n, batch_size):
            m = min(batch_size, n - i)
            lab = None if labels is None else labels[i : i + m].to(model.device)
            out.append(model.sample(m, labels=lab).float().cpu())
    return torch.cat(out)


def _images(data: GenData, indices: torch.Tensor, batch_size: int = 2000) -> tuple[torch.Tensor, torch.Tensor | None]:
    xs, ys = [], []
    for i in range(0, len(indices), batch_size):
        b = data.get_batch(indices[i : i + batch_size])
        xs.append(b.x.float().cpu())
        if b.labels is not None:
            ys.append(b.labels.cpu())
    return torch.cat(xs), (torch.cat(ys) if ys else None)


def applicable_groups(model: GenerativeModel, data: GenData) -> dict[str, str | None]:
    """Each metric group -> None if it applies to ``model`` on ``data``, else why not (one line)."""
    caps = model.capabilities
    out: dict[str, str | None] = {}
    has_modes = hasattr(data, "modes") and hasattr(data, "mode_std")
    out["modes"] = (None if has_modes and caps.can_sample else
                    "the data have no mode centres" if not has_modes else "the model cannot sample")
    labelled_images = data.spec.kind == "images" and bool(data.spec.num_classes)
    out["images"] = (None if labelled_images and caps.can_sample and not has_factors(data) else
                     "the data are not labelled images" if not labelled_images else
                     "the model cannot sample" if not caps.can_sample else
                     "skipped by default on data with ground-truth factors (ask with metrics=['images'], on "
                     "the command line --metrics images)")
    out["likelihood"] = None if has_posterior(model) else (
        "the model has no posterior(x) / log_likelihood(x, z) methods")
    out["disentanglement"] = (None if has_factors(data) and caps.can_encode else
                              "the data have no ground-truth factors" if not has_factors(data) else
                              "the model cannot encode")
    return out


def modes_group(model: GenerativeModel, data: GenData, *, n: int, seed: int) -> dict[str, Any]:
    """Toy mode metrics (VEEGAN / PacGAN protocol, :func:`~genwidgets.metrics.toys.mode_metrics`) on ``n`` samples."""
    return mode_metrics(draw_samples(model, n, seed=seed), data.modes, data.mode_std)


def images_group(
    model: GenerativeModel,
    data: GenData,
    *,
    n: int,
    seed: int,
    recipe: ClassifierRecipe | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """FID/KID with floors (Heusel et al. 2017; Bińkowski et al. 2018), P&R (Kynkäänniemi et al. 2019), class stats.

    Two disjoint real sets A and B of ``n`` examples each are drawn from ``data`` (seeded); the model's
    ``n`` samples are compared with A, and B against A gives the real-vs-real floor at the same size.
    Conditional models are asked for labels ``0, 1, ..., K-1, 0, 1, ...`` (balanced) and scored by
    the classifier's accuracy on their samples per requested label (Shmelkov et al. 2018's
    "GAN-test" idea, with the classifier in place of a network trained on generated data).
    """
    from .fid import fid_kid  # torchmetrics takes seconds to import: only when needed
    from .precision_recall import precision_recall

    n = min(n, len(data) // 2)
    if n < 10:
        raise DataError(f"{data.name!r} has too few examples ({len(data)}) for image metrics")
    classifier = get_classifier(data, recipe, progress=progress)
    extractor = ClassifierFeatures(classifier.network)
    idx_a, idx_b = disjoint_indices(len(data), (n, n), seed)
    real_a, _ = _images(data, idx_a)
    real_b, _ = _images(data, idx_b)
    k = int(data.spec.num_classes or 1)
    labels = torch.arange(n) % k if model.capabilities.conditional else None
    fake = draw_samples(model, n, labels=labels, seed=seed)
    f_a, f_b, f_fake = (extract_features(extractor, t) for t in (real_a, real_b, fake))
    result: dict[str, Any] = fid_kid(f_a, f_fake, f_b, seed=seed)
    pr = precision_recall(f_a, f_fake, k=3)
    pr_floor = precision_recall(f_a, f_b, k=3)
    result.update(precision=pr["precision"], recall=pr["recall"], precision_floor=pr_floor["precision"],
                  recall_floor=pr_floor["recall"], pr_k=3)
    predicted = classifier.network.predict(fake)
    result["predicted_class_fractions"] = (torch.bincount(predicted, minlength=k).double() / n).tolist()
    if labels is not None:
        names = list(data.class_names or range(k))
        per_label = {str(names[c]): float((predicted[labels == c] == c).double().mean()) for c in range(k)}
        result["label_accuracy"] = float((predicted == labels).double().mean())
        result["label_accuracy_per_label"] = per_label
    result["classifier"] = classifier.describe()
    result["feature_space"] = f"penultimate layer ({classifier.network.num_features}-d) of the {data.name} classifier"
    return result


def likelihood_group(
    model: GenerativeModel, data: GenData, *, n: int, seed: int, iw_samples: int
) -> dict[str, Any]:
    """Negative ELBO and IW-NLL (Kingma & Welling 2014; Burda et al. 2016) on the held-out split of ``data``."""
    _, test = train_test_split(data)
    result = likelihood_metrics(model, test, n=n, k=iw_samples, seed=seed)
    result["split"] = (f"held-out: the last {TEST_FRACTION:.0%} ({len(test)}) of {data.name} in the order of "
                       f"genwidgets.data.splits.train_test_split (seed {SPLIT_SEED}); held out only if the "
                       "model was trained on the train part")
    return result


def disentanglement_group(model: GenerativeModel, data: GenData, *, n: int, seed: int) -> dict[str, Any]:
    """MIG (Chen et al. 2018) on ``n`` examples and the FactorVAE metric (Kim & Mnih 2018) of ``model.encode``."""

    def represent(indices: torch.Tensor) -> torch.Tensor:
        with model.evaluating():
            return model.encode(data.get_batch(indices).x.to(model.device)).float().cpu()

    return {"mig": mig_score(data, represent, n=n, seed=seed),
            "factor_vae": factor_vae_score(data, represent, seed=seed)}


def plugin_metrics() -> dict[str, Any]:
    """Metrics plugins registered (``register_metrics``), by name: :class:`~genwidgets.registry.MetricEntry`."""
    from ..registry import get_registry

    return {entry.name: entry for entry in get_registry().list_metrics()}


def _plugin_reason(entry: Any, model: GenerativeModel, data: GenData) -> str | None:
    try:
        reason = entry.reason_not_applicable(model, data)
    except Exception as exc:  # noqa: BLE001 - a plugin's check must not stop the evaluation
        return f"applies() of plugin {entry.plugin!r} raised {type(exc).__name__}: {exc}"
    return None if reason is None else str(reason)


def _run_plugin_metric(entry: Any, model: GenerativeModel, data: GenData, *, n: int, seed: int) -> dict[str, Any]:
    with seeded(seed, model.device), model.evaluating():
        result = entry.compute(model, data, n=n, seed=seed)
    if not isinstance(result, dict):
        raise TypeError(f"compute() returned {type(result).__name__}; it must return a dict of results")
    json.dumps(_json_ready(result))  # fails here, with the plugin named, rather than in the caller's json.dump
    return result


def _json_ready(value: Any) -> Any:
    """Replace non-finite floats with None (JSON has no inf/NaN) and tuples with lists, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def evaluate(
    checkpoint_or_model: str | os.PathLike | GenerativeModel,
    *,
    data: GenData | str | None = None,
    n: int | None = None,
    seed: int = 0,
    iw_samples: int = 1000,
    metrics: Sequence[str] | None = None,
    device: str | None = None,
    classifier_recipe: ClassifierRecipe | None = None,
    progress: Callable[[str], None] | None = None,
    save: bool = False,
) -> dict[str, Any]:
    """Evaluate a model with every applicable metric group (see the module docstring for groups and papers).

    Args:
        checkpoint_or_model: A checkpoint or run directory, or a model in memory.
        data: The data to compare with (a GenData or a registered name); default: the data set the
            checkpoint was trained on, reloaded by name. Required for a model in memory.
        n: Examples per metric group (samples and real sets for ``modes`` and ``images``, held-out
            examples for ``likelihood``, examples for MIG); None uses :data:`DEFAULT_N` per group.
        seed: Seed of every random choice (samples, real subsets, z draws, votes).
        iw_samples: Importance samples per example for the IW-NLL (>= 1000 for a final number).
        metrics: Groups to run, built-in or from plugins (default: every applicable one); asking for one
            that cannot apply raises.
        device: Device to load a checkpoint on.
        classifier_recipe: Recipe of the image classifier (default: the cached standard one).
        progress: Callback for one-line progress messages.
        save: Keep the result beside the run, in ``run/evaluations/step-N.json`` (merged with groups
            measured before at that step; see :mod:`genwidgets.runfolders.evaluations`), where the runs board
            reads it. Needs a checkpoint, not a model in memory.

    Returns:
        JSON-ready dict: ``model``, ``checkpoint``, ``data``, ``seed``, ``metrics`` (group -> results),
        ``skipped`` (group -> reason), ``failed`` (plugin metric -> error naming its plugin),
        ``providers`` (plugin metric -> plugin name) and ``seconds`` (group -> wall time); with
        ``save=True`` also ``saved`` (the file's path).
    """
    from ..runtime.checkpoint import resolve_checkpoint
    from ..runtime.loading import load_checkpoint_data, load_data, load_model

    checkpoint = None
    if isinstance(checkpoint_or_model, GenerativeModel):
        model = checkpoint_or_model
        if save:
            raise ConfigError("evaluate(model, save=True) needs a checkpoint: a model in memory has no run folder "
                              "to keep the result in; save a checkpoint first (run.save()) and evaluate that")
        if data is None:
            raise ConfigError("evaluate(model) needs data=...: a model in memory does not know its data set")
    else:
        checkpoint = resolve_checkpoint(checkpoint_or_model)
        model = load_model(checkpoint, device=device)
    dataset = load_data(data) if isinstance(data, str) else data if data is not None else load_checkpoint_data(
        checkpoint)  # type: ignore[arg-type]
    if tuple(dataset.spec.shape) != tuple(model.data_spec.shape):
        raise DataError(f"model {model.name!r} was built for data shaped {model.data_spec.shape}, "
                        f"but {dataset.name!r} is shaped {dataset.spec.shape}")
    reasons = applicable_groups(model, dataset)
    extra = plugin_metrics()
    reasons.update({name: _plugin_reason(entry, model, dataset) for name, entry in extra.items()})
    every = [*GROUPS, *extra]
    if metrics is None:
        chosen = [g for g in every if reasons[g] is None]
    else:
        unknown = [g for g in metrics if g not in every]
        if unknown:
            raise ConfigError(f"unknown metric groups {unknown}; choose from {every}")
        impossible = {g: reasons[g] for g in metrics if reasons[g] is not None and not reasons[g].startswith("skipped")}
        if impossible:
            raise ConfigError("cannot compute " + "; ".join(f"{g}: {r}" for g, r in impossible.items()))
        chosen = [g for g in every if g in metrics]
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    for group in chosen:
        size = n if n is not None else DEFAULT_N[group] if group in DEFAULT_N else extra[group].default_n
        if progress is not None:
            progress(f"{group} ...")
        t0 = time.perf_counter()
        if group in extra:
            try:
                results[group] = _run_plugin_metric(extra[group], model, dataset, n=size, seed=seed)
            except Exception as exc:  # noqa: BLE001 - one plugin's metric must not lose the others
                failed[group] = f"metric {group!r} of plugin {extra[group].plugin!r} raised {type(exc).__name__}: {exc}"
        elif group == "modes":
            results[group] = modes_group(model, dataset, n=size, seed=seed)
        elif group == "images":
            results[group] = images_group(model, dataset, n=size, seed=seed, recipe=classifier_recipe,
                                          progress=progress)
        elif group == "likelihood":
            results[group] = likelihood_group(model, dataset, n=size, seed=seed, iw_samples=iw_samples)
        else:
            results[group] = disentanglement_group(model, dataset, n=size, seed=seed)
        seconds[group] = round(time.perf_counter() - t0, 2)
    result = _json_ready({
        "model": model.name,
        "checkpoint": str(checkpoint) if checkpoint is not None else None,
        "data": dataset.name,
        "data_size": len(dataset),
        "seed": seed,
        "metrics": results,
        "skipped": {g: r if r is not None else f"not among the groups asked for ({', '.join(chosen)})"
                    for g, r in reasons.items() if g not in chosen},
        "failed": failed,
        "providers": {g: extra[g].plugin for g in chosen if g in extra},
        "seconds": seconds,
    })
    if save and checkpoint is not None:
        from ..runfolders.evaluations import save_evaluation

        result["saved"] = str(save_evaluation(result, checkpoint))
    return result
