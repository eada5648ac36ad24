"""Measured quality of generative models: one small module per job.

* the fixed train / held-out split (:func:`train_test_split`) lives in :mod:`genwidgets.data.splits`.
* :mod:`.classifier` — the cached CNN whose features stand in for Inception (:func:`get_classifier`).
* :mod:`.features`, :mod:`.fid` — FID (Heusel et al. 2017) and KID (Bińkowski et al. 2018) via torchmetrics,
  always with the real-vs-real floor (:func:`fid_kid`).
* :mod:`.precision_recall` — improved precision and recall (Kynkäänniemi et al. 2019).
* :mod:`.toys` — modes covered, % high quality, reverse KL (VEEGAN 2017, PacGAN 2018) (:func:`mode_metrics`).
* :mod:`.likelihood` — negative ELBO (Kingma & Welling 2014) and IW-NLL (Burda et al. 2016).
* :mod:`.disentanglement` — MIG (Chen et al. 2018) and the FactorVAE metric (Kim & Mnih 2018).
* :mod:`.evaluate` — :func:`evaluate`: every applicable metric for a checkpoint or model, JSON-ready.

Exports other than :func:`evaluate` resolve lazily (PEP 562); ``import genwidgets.metrics`` imports
neither torchmetrics nor scikit-learn (they load when a metric needs them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Bound eagerly: otherwise importing the submodule ``evaluate`` would shadow the function of that name.
from .evaluate import evaluate

if TYPE_CHECKING:
    from ..data.splits import SubsetData, train_test_split
    from .classifier import ClassifierRecipe, ImageClassifier, get_classifier
    from .disentanglement import factor_vae_score, mig, mig_score
    from .features import ClassifierFeatures
    from .fid import fid_from_features, fid_kid, image_fid, kid_from_features
    from .likelihood import LatentVariableModel, elbo, iw_log_likelihood, likelihood_metrics
    from .precision_recall import precision_recall
    from .toys import mode_metrics

_HOMES: dict[str, str] = {
    "ClassifierRecipe": ".classifier", "ImageClassifier": ".classifier", "get_classifier": ".classifier",
    "factor_vae_score": ".disentanglement", "mig": ".disentanglement", "mig_score": ".disentanglement",
    "ClassifierFeatures": ".features",
    "fid_from_features": ".fid", "fid_kid": ".fid", "image_fid": ".fid", "kid_from_features": ".fid",
    "LatentVariableModel": ".likelihood", "elbo": ".likelihood", "iw_log_likelihood": ".likelihood",
    "likelihood_metrics": ".likelihood",
    "precision_recall": ".precision_recall",
    "SubsetData": "..data.splits", "train_test_split": "..data.splits",
    "mode_metrics": ".toys",
}

__all__ = [
    "ClassifierFeatures", "ClassifierRecipe", "ImageClassifier", "LatentVariableModel", "SubsetData", "elbo",
    "evaluate", "factor_vae_score", "fid_from_features", "fid_kid", "get_classifier", "image_fid",
    "iw_log_likelihood", "kid_from_features", "likelihood_metrics", "mig", "mig_score", "mode_metrics",
    "precision_recall", "train_test_split",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
