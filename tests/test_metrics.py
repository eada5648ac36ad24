"""genwidgets.metrics on cases whose answer is known: real vs real, collapsed and perfect samplers, exact models."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import genwidgets as gw
from genwidgets.cli import main as cli_main
from genwidgets.config import ModelConfig
from genwidgets.data.base import Batch, DataSpec
from genwidgets.data.dsprites import DSpritesData
from genwidgets.data.splits import SubsetData, disjoint_indices, train_test_split
from genwidgets.data.toys import grid, ring
from genwidgets.errors import CapabilityError, ConfigError
from genwidgets.metrics import evaluate
from genwidgets.metrics.classifier import (
    SHIPPED,
    ClassifierRecipe,
    cache_key,
    cached_classifier,
    classifier_path,
    get_classifier,
    shipped_path,
)
from genwidgets.metrics.disentanglement import factor_vae_score, mig, mig_score
from genwidgets.metrics.features import ClassifierFeatures, extract_features
from genwidgets.metrics.fid import fid_from_features, fid_kid, image_fid, kid_from_features
from genwidgets.metrics.likelihood import LatentVariableModel, has_posterior, iw_log_likelihood, likelihood_metrics
from genwidgets.metrics.precision_recall import knn_radii, precision_recall
from genwidgets.metrics.toys import mode_metrics
from genwidgets.model import Capabilities, GenerativeModel
from genwidgets.runtime.runtime import Runtime
from genwidgets_models.vae import VAE, VAEConfig

CPU = Runtime(device=torch.device("cpu"), num_threads=1)



# ---- splits -------------------------------------------------------------------------------------------

def test_split_is_deterministic_disjoint_and_keeps_data_properties(digits):
    train, test = train_test_split(digits)
    again_train, again_test = train_test_split(gw.load_data("digits"))
    assert len(train) + len(test) == len(digits) and len(test) == round(0.2 * len(digits))
    assert torch.equal(test.indices, again_test.indices) and torch.equal(train.indices, again_train.indices)
    assert not set(train.indices.tolist()) & set(test.indices.tolist())
    assert torch.equal(test.get_batch(torch.arange(3)).x, digits.get_batch(test.indices[:3]).x)
    assert test.spec == digits.spec and test.name == "digits" and test.split == "test"
    toy_train, _ = train_test_split(ring(n=100))
    assert toy_train.modes.shape == (8, 2) and toy_train.mode_std == 0.01
    mnist_train, mnist_test = train_test_split(gw.load_data("mnist"))
    assert (len(mnist_train), len(mnist_test)) == (4000, 1000)


def test_split_view_trains_a_model(digits):
    train, _ = train_test_split(digits)
    run = gw.train("vae", data=train, steps=3, preset="tiny", log_every=1, sample_every=100, checkpoint_every=None)
    run.wait()
    assert run.step_count == 3 and run.data is train


def test_dsprites_view_maps_factors():
    data = DSpritesData()
    view = SubsetData(data, torch.tensor([5, 70_000, 737_279]))
    expected = data.factors(torch.tensor([70_000, 737_279]))["posY"]
    assert torch.equal(view.factors(torch.tensor([1, 2]))["posY"], expected)
    assert view.factor_sizes == (3, 6, 40, 32, 32)
    a, b = disjoint_indices(10, (4, 6), seed=1)
    assert sorted(torch.cat([a, b]).tolist()) == list(range(10))


# ---- classifier, FID, KID, precision / recall ------------------------------------------------------------

@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENWIDGETS_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def digits_classifier(cache):
    torch.set_num_threads(1)
    return get_classifier(gw.load_data("digits"))


@pytest.fixture(scope="module")
def digit_sets(digits_classifier):
    """Features of three disjoint real sets of 500 digits, of a blurred and of a noise set (same size)."""
    data = gw.load_data("digits")
    a, b, c = (data.get_batch(i).x for i in disjoint_indices(len(data), (500, 500, 500), seed=0))
    blurred = F.avg_pool2d(F.pad(c, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    noise = torch.rand(c.shape, generator=torch.Generator().manual_seed(0))
    extractor = ClassifierFeatures(digits_classifier.network)
    feats = {k: extract_features(extractor, v) for k, v in
             {"a": a, "b": b, "c": c, "blurred": blurred, "noise": noise}.items()}
    return {"images": {"a": a, "c": c}, "features": feats, "extractor": extractor}


def test_classifier_is_accurate_cached_and_retrained_when_corrupt(cache, digits_classifier):
    assert digits_classifier.heldout_accuracy >= 0.95 and digits_classifier.n_test == 359
    path = classifier_path(digits_classifier.key)
    assert path.is_file() and path.parent.parent == cache and path.suffix == ".safetensors"
    recipe = ClassifierRecipe()
    again = get_classifier(gw.load_data("digits"), recipe)
    assert again.cached and again.heldout_accuracy == digits_classifier.heldout_accuracy
    for name, tensor in digits_classifier.network.state_dict().items():
        assert torch.equal(tensor, again.network.state_dict()[name]), name
    path.write_bytes(b"not a safetensors file")
    retrained = get_classifier(gw.load_data("digits"), recipe)
    assert not retrained.cached and retrained.heldout_accuracy == digits_classifier.heldout_accuracy  # reproducible
    assert get_classifier(gw.load_data("digits"), recipe).cached
    assert get_classifier(gw.load_data("digits"), ClassifierRecipe(seed=1, min_steps=10), use_cache=False).key \
        != digits_classifier.key


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_classifier_is_found_for_the_current_recipe_and_data_and_scores_as_recorded(cache, name):
    data = gw.load_data(name)
    key = cache_key(data, ClassifierRecipe())
    assert shipped_path(key).is_file(), (
        f"no shipped classifier for {name} under key {key}: the recipe, network or data changed; "
        f"run scripts/ship_classifiers.py {name} and commit genwidgets/metrics/weights/")
    assert not classifier_path(key).exists()  # the test's cache is empty: what follows comes from the package
    found = get_classifier(data)
    assert found.cached and found.path == shipped_path(key) and found.heldout_accuracy >= 0.95
    assert not classifier_path(key).exists()  # a shipped classifier is not copied into the cache
    # The loaded weights do what the record says: re-score 1,000 held-out examples.
    heldout = train_test_split(data)[1]
    batch = heldout.get_batch(torch.arange(min(1000, len(heldout))))
    accuracy = float((found.network.predict(batch.x.float()) == batch.labels).float().mean())
    assert abs(accuracy - found.heldout_accuracy) < 0.03, (accuracy, found.heldout_accuracy)
    assert cached_classifier(data).path == found.path


def test_cached_classifier_never_trains(cache):
    assert cached_classifier(gw.load_data("digits", seed=5)) is None  # no cache file, none shipped
    assert cached_classifier(gw.load_data("ring")) is None  # not images


def test_real_vs_real_fid_is_near_its_floor_and_far_from_blur_and_noise(digit_sets):
    f = digit_sets["features"]
    floor = fid_from_features(f["a"], f["b"])
    real = fid_from_features(f["a"], f["c"])
    blurred = fid_from_features(f["a"], f["blurred"])
    noise = fid_from_features(f["a"], f["noise"])
    assert floor > 0 and real < 2 * floor
    assert blurred > 5 * floor and noise > 20 * floor
    result = fid_kid(f["a"], f["c"], f["b"], kid_subsets=20, kid_subset_size=200)
    assert result["fid_ratio"] < 2 and result["n"] == 500
    assert abs(result["kid"]) < 3 * result["kid_std"] + 1e-3
    assert abs(result["kid_floor"]) < 3 * result["kid_floor_std"] + 1e-3
    kid_blur, kid_blur_std = kid_from_features(f["a"], f["blurred"], subsets=20, subset_size=200)
    assert kid_blur > 10 * max(result["kid_floor_std"], 1e-4) and kid_blur > 5 * kid_blur_std


def test_torchmetrics_with_the_classifier_inside_matches_precomputed_features(digit_sets):
    images, f = digit_sets["images"], digit_sets["features"]
    inside = image_fid(images["a"], images["c"], digit_sets["extractor"], batch_size=128)
    assert inside == pytest.approx(fid_from_features(f["a"], f["c"]), rel=1e-4)


def test_precision_recall_known_cases(digit_sets):
    f = digit_sets["features"]
    real = precision_recall(f["a"], f["c"])
    assert real["precision"] > 0.7 and real["recall"] > 0.7 and real["k"] == 3
    collapsed = f["c"][:5].repeat(100, 1) + 1e-4 * torch.randn(500, f["c"].shape[1])
    pr = precision_recall(f["a"], collapsed)
    assert pr["precision"] >= 0.6 and pr["recall"] < 0.1  # sharp but one-mode samples: high precision, no recall
    noise = precision_recall(f["a"], f["noise"])  # noise covers none of the real digits
    assert noise["recall"] < 0.05 and noise["precision"] < real["precision"] - 0.2
    points = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])
    assert knn_radii(points, k=1).tolist() == [1.0, 1.0, 2.0, 3.0, 4.0]


# ---- toys ---------------------------------------------------------------------------------------------------

def test_perfect_ring_sampler_covers_eight_modes():
    data = ring()
    perfect = ring(n=2500, seed=1).x
    m = mode_metrics(perfect, data.modes, data.mode_std)
    # Within 3 sigma in 2-D holds with probability 1 - exp(-4.5) = 98.9 %: the best any sampler can do.
    assert m["modes_covered"] == 8 and m["hq_percent"] == pytest.approx(98.9, abs=0.7)
    assert m["reverse_kl"] < 0.01 and m["n"] == 2500


def test_collapsed_generator_covers_one_mode():
    data = ring()
    collapsed = torch.tensor(data.modes[3], dtype=torch.float32) + 0.01 * torch.randn(2500, 2)
    m = mode_metrics(collapsed, data.modes, data.mode_std)
    assert m["modes_covered"] == 1 and m["counts"][3] > 2400 and m["reverse_kl"] == pytest.approx(math.log(8))
    spread = mode_metrics(torch.rand(2500, 2) * 4 - 2, data.modes, data.mode_std)
    assert spread["hq_percent"] < 5
    assert mode_metrics(torch.full((10, 2), 50.0), data.modes, data.mode_std)["reverse_kl"] == math.inf
    g = grid()
    assert mode_metrics(grid(n=2500, seed=3).x, g.modes, g.mode_std)["modes_covered"] == 25


class Sampler(GenerativeModel):
    """A fixed sampler for evaluate(): the ring mixture itself, or all mass on one mode."""

    name = "sampler"
    capabilities = Capabilities(can_sample=True)
    data_kinds = ("points",)
    collapsed = False

    def train_step(self, batch: Batch) -> dict:
        return {}

    def sample(self, n: int, *, z=None, labels=None) -> torch.Tensor:
        modes = torch.tensor(ring().modes, dtype=torch.float32)
        which = torch.zeros(n, dtype=torch.long) if self.collapsed else torch.randint(0, 8, (n,))
        return modes[which] + 0.01 * torch.randn(n, 2)


def test_evaluate_picks_toy_metrics_by_data_and_is_json_ready():
    data = ring()
    model = Sampler(ModelConfig(), data_spec=data.spec, runtime=CPU)
    result = evaluate(model, data=data)
    assert set(result["metrics"]) == {"modes"} and result["metrics"]["modes"]["modes_covered"] == 8
    assert result["metrics"]["modes"]["hq_percent"] > 98
    assert set(result["skipped"]) == {"images", "likelihood", "disentanglement"}
    def without_timing(r):
        return {k: v for k, v in r.items() if k != "seconds"}

    assert without_timing(evaluate(model, data=data)) == without_timing(result)  # seeded
    model.collapsed = True
    collapsed = evaluate(model, data=data, n=500)
    assert collapsed["metrics"]["modes"]["modes_covered"] == 1
    json.dumps(collapsed, allow_nan=False)
    with pytest.raises(ConfigError, match="needs data"):
        evaluate(model)
    with pytest.raises(ConfigError, match="likelihood"):
        evaluate(model, data=data, metrics=["likelihood"])


# ---- likelihood ---------------------------------------------------------------------------------------------

class LinearGaussian:
    """p(z) = N(0, I_2), p(x|z) = N(Wz + b, s^2 I_3): log p(x) is known exactly (x ~ N(b, WW^T + s^2 I))."""

    def __init__(self, exact_posterior: bool) -> None:
        gen = torch.Generator().manual_seed(0)
        self.w = torch.randn(3, 2, generator=gen, dtype=torch.float64)
        self.b = torch.randn(3, generator=gen, dtype=torch.float64)
        self.s2 = 0.5
        self.exact = exact_posterior

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.exact:  # the prior: a poor proposal
            return torch.zeros(len(x), 2, dtype=torch.float64), torch.zeros(len(x), 2, dtype=torch.float64)
        precision = torch.eye(2, dtype=torch.float64) + self.w.T @ self.w / self.s2
        cov = torch.linalg.inv(precision)
        mean = (x.double() - self.b) @ self.w @ cov.T / self.s2
        return mean, torch.log(torch.diag(cov)).expand(len(x), 2)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        mu = z.double() @ self.w.T + self.b
        return -0.5 * (((x.double() - mu) ** 2) / self.s2 + math.log(2 * math.pi * self.s2)).sum(-1)

    def log_px(self, x: torch.Tensor) -> torch.Tensor:
        cov = self.w @ self.w.T + self.s2 * torch.eye(3, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x.double())


def test_iw_estimate_converges_to_the_exact_log_likelihood():
    model = LinearGaussian(exact_posterior=False)
    assert isinstance(model, LatentVariableModel) and has_posterior(model)
    x = torch.distributions.MultivariateNormal(model.b, model.w @ model.w.T + 0.5 * torch.eye(3, dtype=torch.float64)
                                               ).sample((200,))
    truth = model.log_px(x).mean()
    torch.manual_seed(0)
    few = iw_log_likelihood(model, x, k=2).mean()
    many = iw_log_likelihood(model, x, k=5000).mean()
    assert few < many - 0.05 and abs(many - truth) < 0.03
    # The bound is tight for any k with the true posterior (if it is diagonal; here W^T W need not be).
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], dtype=torch.float64)
    model.w, model.exact = w, True
    exact = iw_log_likelihood(model, x, k=3)
    assert torch.allclose(exact, model.log_px(x), atol=1e-8)


@pytest.mark.parametrize(("dataset", "overrides", "gap"), [
    ("digits", {"hidden": (64,), "latent_dim": 4}, 0.05),
    ("digits", {"architecture": "conv", "width": 8, "latent_dim": 4}, 0.05),
    ("ring", {"hidden": (32,), "latent_dim": 2}, 0.0),  # Gaussian decoder; its posterior is nearly exact
])
def test_iw_nll_is_below_the_negative_elbo_and_falls_with_k(dataset, overrides, gap):
    data = gw.load_data(dataset)
    train, test = train_test_split(data)
    model = VAE(VAEConfig(batch_size=64, **overrides), data_spec=data.spec, runtime=CPU)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        model.train_step(train.get_batch(torch.randint(0, len(train), (64,), generator=gen)))
    one = likelihood_metrics(model, test, n=100, k=1, elbo_samples=1)
    mid = likelihood_metrics(model, test, n=100, k=30)
    big = likelihood_metrics(model, test, n=100, k=1000, elbo_samples=20)
    # k = 1 is the one-sample ELBO; more samples tighten the bound (Burda et al. 2016, theorem 1). The
    # tolerances are Monte Carlo noise of the estimates (measured at < 0.02 nats on these models).
    assert one["iw_nll"] == pytest.approx(one["neg_elbo"], abs=3 * one["neg_elbo_stderr"] + 1e-3)
    assert big["iw_nll"] <= big["neg_elbo"] - gap
    assert big["iw_nll"] <= mid["iw_nll"] + 0.03 and mid["iw_nll"] <= one["iw_nll"] + 0.03
    assert model.training  # evaluation left the model's mode alone
    result = evaluate(model, data=data, metrics=["likelihood"], n=20, iw_samples=5)
    assert result["metrics"]["likelihood"]["n"] == 20 and "held-out" in result["metrics"]["likelihood"]["split"]
    with pytest.raises(CapabilityError, match="posterior"):
        likelihood_metrics(gw.build_model("gan", data.spec, preset="tiny", runtime=CPU), test)


# ---- disentanglement ----------------------------------------------------------------------------------------

def _codes(data: DSpritesData, kind: str):
    def represent(indices: torch.Tensor) -> torch.Tensor:
        factors = torch.stack([data.factors(indices)[n] for n in data.factor_names], 1).float()
        gen = torch.Generator().manual_seed(int(indices[0]))
        if kind == "noise":
            return torch.randn(len(indices), 5, generator=gen)
        return factors / torch.tensor(data.factor_sizes) + 1e-3 * torch.randn(factors.shape, generator=gen)
    return represent


def test_mig_is_high_for_factor_codes_and_near_zero_for_noise():
    data = DSpritesData()
    aligned = mig_score(data, _codes(data, "aligned"), n=5000)
    noise = mig_score(data, _codes(data, "noise"), n=5000)
    assert aligned["mig"] > 0.75 and noise["mig"] < 0.03
    assert set(aligned["per_factor"]) == set(data.factor_names) and aligned["per_factor"]["shape"] > 0.95
    v = np.random.default_rng(0).integers(0, 4, size=(4000, 2))
    split = np.stack([v[:, 0], v[:, 0], v[:, 1]], 1).astype(float)  # factor 0 shared by two latents: no gap
    assert mig(v.astype(float), v)["mig"] > 0.95 and mig(split, v)["mig"] == pytest.approx(0.5, abs=0.01)


def test_factor_vae_metric_is_one_for_factor_aligned_codes():
    data = DSpritesData()
    kwargs = {"n_train": 100, "n_eval": 50, "n_variance": 2000}
    aligned = factor_vae_score(data, _codes(data, "aligned"), **kwargs)
    assert aligned["score"] == 1.0 and aligned["num_active_dims"] == 5
    assert aligned["dim_to_factor"] == dict(enumerate(data.factor_names))
    assert factor_vae_score(data, _codes(data, "noise"), **kwargs)["score"] < 0.5
    dead = factor_vae_score(data, lambda idx: torch.zeros(len(idx), 3), **kwargs)
    assert dead["score"] == 0.0 and dead["num_active_dims"] == 0


# ---- evaluate on images, and the CLI -----------------------------------------------------------------------

class Replay(GenerativeModel):
    """A "generator" that replays real digits (optionally conditional): its FID sits at the floor."""

    name = "replay"
    capabilities = Capabilities(can_sample=True, conditional=True)
    data_kinds = ("images",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        data = gw.load_data("digits")
        self.x, self.y = data.x, data.labels

    def train_step(self, batch: Batch) -> dict:
        return {}

    def sample(self, n: int, *, z=None, labels=None) -> torch.Tensor:
        labels = torch.randint(0, 10, (n,)) if labels is None else labels.cpu()
        pools = [torch.nonzero(self.y == c).squeeze(1) for c in range(10)]
        idx = torch.stack([pools[int(c)][torch.randint(0, len(pools[int(c)]), ())] for c in labels])
        return self.x[idx]


def test_evaluate_images_reports_floor_pr_and_label_accuracy(cache, digits_classifier):
    data = gw.load_data("digits")
    model = Replay(ModelConfig(), data_spec=data.spec, runtime=CPU)
    result = evaluate(model, data=data, n=300)
    images = result["metrics"]["images"]
    assert images["classifier"]["cached"] and images["n"] == 300
    assert images["fid"] < 3 * images["fid_floor"] and images["recall"] > 0.6
    assert images["label_accuracy"] > 0.95 and len(images["label_accuracy_per_label"]) == 10
    assert sum(images["predicted_class_fractions"]) == pytest.approx(1.0)


def test_cli_evaluate_json(tmp_path: Path, cache, digits_classifier, capsys):
    out = tmp_path / "run"
    gw.train("dcgan", data="digits", steps=2, preset="tiny", out=out, log_every=1, sample_every=100).wait()
    assert os.environ["GENWIDGETS_CACHE"] == str(cache)
    assert cli_main(["evaluate", str(out), "--json", "--n", "100", "--seed", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    images = result["metrics"]["images"]
    assert result["model"] == "dcgan" and result["data"] == "digits" and result["seed"] == 3
    assert images["n"] == 100 and images["fid"] > images["fid_floor"] > 0 and 0 <= images["recall"] <= 1
    assert "label_accuracy" not in images and set(result["skipped"]) == {"modes", "likelihood", "disentanglement"}
    assert cli_main(["evaluate", str(tmp_path / "missing")]) == 1
    assert "no checkpoint at" in capsys.readouterr().err


def test_cli_evaluate_runs_only_the_groups_asked_for(tmp_path: Path, capsys):
    out = tmp_path / "run"
    gw.train("vae", data="ring", steps=2, preset="tiny", out=out, log_every=1, sample_every=100).wait()
    assert cli_main(["evaluate", str(out), "--json", "--n", "50", "--iw-samples", "4", "--metrics", "modes"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["metrics"]) == ["modes"] and "likelihood" in result["skipped"]
    assert cli_main(["evaluate", str(out), "--json", "--n", "50", "--iw-samples", "4",
                     "--metrics", "likelihood,modes"]) == 0
    assert list(json.loads(capsys.readouterr().out)["metrics"]) == ["modes", "likelihood"]
    assert cli_main(["evaluate", str(out), "--metrics", "fid"]) == 1
    assert "unknown metric groups ['fid']" in capsys.readouterr().err


def test_evaluate_spec_mismatch_is_refused():
    data = ring()
    model = Sampler(ModelConfig(), data_spec=DataSpec(kind="points", shape=(3,)), runtime=CPU)
    with pytest.raises(gw.DataError, match="shaped"):
        evaluate(model, data=data)


def test_a_run_on_a_train_part_records_it_and_resumes_on_the_same_part(tmp_path):
    """Protects: resuming a run trained on the train split continues on that split, not on all the data
    (held-out examples must never leak into training)."""
    from genwidgets.runtime.checkpoint import list_checkpoints, read_checkpoint

    train, test = train_test_split(gw.load_data("ring"))
    gw.train("vae", data=train, preset="tiny", steps=3, out=tmp_path, log_every=1).wait()
    _, state = read_checkpoint(list_checkpoints(tmp_path)[-1])
    assert state["data"]["name"] == "ring"
    assert state["data"]["split"] == {"part": "train", "test_fraction": 0.2, "seed": 0}
    resumed = gw.resume(tmp_path, steps=6)
    resumed.wait()
    assert torch.equal(resumed.data.indices, train.indices)
    assert not set(resumed.data.indices.tolist()) & set(test.indices.tolist())
    _, state = read_checkpoint(list_checkpoints(tmp_path)[-1])
    assert state["step"] == 6 and state["data"]["split"]["part"] == "train"
