"""genwidgets.explore: projections and their inverse, paths, ranking, latest-wins coalescing, maps."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import genwidgets as gw
from genwidgets.errors import CapabilityError, ConfigError
from genwidgets.explore.coalesce import LatestWins
from genwidgets.explore.latent_map import build_map, choose_source
from genwidgets.explore.model_view import ModelView, frozen_copy
from genwidgets.explore.output_map import OutputProjection
from genwidgets.explore.paths import interpolate, lerp, slerp, traversal
from genwidgets.explore.projection import AxisProjection, PCAProjection, nearest_index
from genwidgets.explore.ranking import EFFECT_MEASURE, output_effect, rank_dims
from genwidgets.explore.session import LatentSession

torch.set_num_threads(1)


from latent_models import DecoderOnly, DecoderOnlyConfig, SampleOnly  # noqa: E402


def _points_spec():
    return gw.load_data("ring").spec


# ---- projections ----------------------------------------------------------------------------------------

def test_pca_finds_the_plane_of_the_codes_and_lift_inverts_project():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(500, 2)) * [3.0, 1.0]
    basis = np.linalg.qr(rng.normal(size=(6, 6)))[0][:2]  # an orthonormal 2-D plane in 6-D
    codes = (plane @ basis + 0.01 * rng.normal(size=(500, 6)) + 5.0).astype(np.float32)
    pca = PCAProjection(codes)
    assert sum(pca.explained) > 0.99
    assert abs(abs(pca.components[0] @ basis[0]) - 1) < 1e-3  # first component = the long axis
    base = codes[17]
    z = pca.lift(np.array([1.5, -0.25]), base)
    np.testing.assert_allclose(pca.project(z[None])[0], [1.5, -0.25], atol=1e-5)
    # Off the plane, the lifted code keeps the base's components.
    off = np.eye(6) - pca.components.T @ pca.components
    np.testing.assert_allclose(off @ (z - base), 0, atol=1e-5)
    # Zero fill: the centre's off-plane components are zero (it is the mean).
    np.testing.assert_allclose(pca.centre(), codes.mean(0), atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.floats(-5, 5), st.floats(-5, 5), st.integers(0, 10_000))
def test_lift_then_project_is_the_identity(d, x, y, seed):
    codes = np.random.default_rng(seed).normal(size=(50, d)).astype(np.float32)
    for projection in (PCAProjection(codes), AxisProjection(d, (d - 1, 0))):
        z = projection.lift(np.array([x, y]), codes[seed % 50])
        np.testing.assert_allclose(projection.project(z[None])[0], [x, y], atol=1e-4)


def test_axis_projection_sets_only_its_two_dimensions_and_checks_them():
    proj = AxisProjection(4, (2, 0))
    z = proj.lift(np.array([7.0, 8.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    assert z.tolist() == [8.0, 2.0, 7.0, 4.0]
    assert proj.axis_titles() == ("z[2]", "z[0]")
    for bad in ((0, 0), (0, 4), (1,)):
        with pytest.raises(ConfigError, match="two different latent dimensions"):
            AxisProjection(4, bad)


def test_one_dimensional_latents_map_to_a_line():
    codes = np.arange(10, dtype=np.float32)[:, None]
    pca = PCAProjection(codes)
    points = pca.project(codes)
    assert np.all(points[:, 1] == 0) and np.ptp(points[:, 0]) == pytest.approx(9)
    assert pca.lift(np.array([0.0, 3.0]), codes[0]).shape == (1,)


def test_projection_rejects_non_finite_codes_with_a_hint():
    with pytest.raises(ValueError, match="NaN or infinity"):
        PCAProjection(np.array([[0.0, np.nan], [1.0, 2.0]]))


def test_nearest_index():
    points = np.array([[0, 0], [1, 1], [5, 5]], dtype=np.float32)
    assert nearest_index(points, np.array([0.9, 1.2])) == 1


# ---- paths and ranking ----------------------------------------------------------------------------------

def test_lerp_and_slerp_hit_both_ends_and_slerp_keeps_the_norm_between_equal_norms():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    t = np.linspace(0, 1, 7)
    for f in (lerp, slerp):
        path = f(a, b, t)
        np.testing.assert_allclose(path[0], a, atol=1e-6)
        np.testing.assert_allclose(path[-1], b, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(slerp(a, b, t), axis=1), 3.0, atol=1e-5)
    assert np.linalg.norm(lerp(a, b, t)[3]) < 2.2  # the straight line cuts through the shell
    np.testing.assert_allclose(slerp(a, 2 * a, t)[:, 0], lerp(a, 2 * a, t)[:, 0], atol=1e-6)  # parallel
    with pytest.raises(ConfigError, match="linear, spherical"):
        interpolate(a, b, 5, "cubic")


def test_traversal_sweeps_one_dimension_per_row():
    grid = traversal(np.array([1.0, 2.0, 3.0]), [2, 0], np.array([-1.0, 0.0, 1.0]))
    assert grid.shape == (6, 3)
    assert grid[:3, 2].tolist() == [-1, 0, 1] and np.all(grid[:3, :2] == [1, 2])
    assert grid[3:, 0].tolist() == [-1, 0, 1] and np.all(grid[3:, 1:] == [2, 3])


def test_rank_by_kl_when_known_else_by_variance():
    codes = np.random.default_rng(0).normal(size=(100, 3)) * [0.1, 2.0, 1.0]
    assert rank_dims(codes).order == [1, 2, 0] and rank_dims(codes).measure == "variance"
    ranked = rank_dims(codes, kl=np.array([5.0, 0.0, 1.0]))
    assert ranked.order == [0, 2, 1] and ranked.scores == [5.0, 1.0, 0.0] and ranked.measure == "KL (nats)"
    by_effect = rank_dims(codes, effect=np.array([0.5, 0.1, 2.0]))
    assert by_effect.order == [2, 0, 1] and by_effect.measure == EFFECT_MEASURE


def test_output_effect_is_the_rms_output_change_per_unit_of_each_coordinate():
    # A linear decoder x = W z: moving z_j by one unit moves the output by W[:, j], whose RMS is the effect.
    weights = np.array([[0.0, 3.0, 1.0, 0.0], [0.0, 4.0, -1.0, 0.5]])
    calls = []

    def decode(z, labels):
        calls.append(len(z))
        return z @ weights.T

    codes = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    effect = output_effect(decode, codes, n=8)
    np.testing.assert_allclose(effect, np.sqrt(np.square(weights).mean(axis=0)), rtol=1e-5)
    assert rank_dims(codes, effect=effect).order == [1, 2, 3, 0] and calls == [2 * 8 * 4]


def test_output_effect_passes_each_code_its_label():
    seen = []

    def decode(z, labels):
        seen.append(labels.copy())
        return z * (1 + labels[:, None])  # the label scales the output: the effect averages the scales

    codes = np.ones((4, 2), dtype=np.float32)
    effect = output_effect(decode, codes, np.array([0, 1, 2, 3]), n=4)
    assert seen[0].tolist() == [0, 1, 2, 3] * 4  # (sign, dimension, code): every code keeps its label
    np.testing.assert_allclose(effect, np.full(2, np.mean([1, 2, 3, 4]) / np.sqrt(2)), rtol=1e-5)


# ---- laying codes out by output ---------------------------------------------------------------------------

def _output_projection(codes, weights, identity=False):
    embed = lambda z: np.asarray(z, dtype=np.float64) @ weights.T  # noqa: E731
    return OutputProjection(codes, embed(codes), embed, what="outputs", identity_axes=identity)


def test_an_output_map_of_2d_outputs_uses_them_as_axes_and_lift_hits_every_map_point():
    rng = np.random.default_rng(2)
    codes = rng.normal(size=(200, 5)).astype(np.float32)
    weights = rng.normal(size=(2, 5))
    proj = _output_projection(codes, weights, identity=True)
    np.testing.assert_allclose(proj.points, codes @ weights.T, rtol=1e-5, atol=1e-5)
    assert proj.axis_titles() == ("output x", "output y")
    for i in (0, 17, 199):
        np.testing.assert_array_equal(proj.lift(proj.points[i], proj.centre()), codes[i])
    # project decodes a code that is not on the map; map_points reuses the fitted points
    np.testing.assert_allclose(proj.project(codes[:3] * 2), (codes[:3] * 2) @ weights.T, rtol=1e-5, atol=1e-5)
    assert proj.map_points(codes) is proj.points


def test_a_lifted_point_between_map_points_blends_their_codes_at_their_length():
    codes = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0], [0.0, -3.0]], dtype=np.float32)
    proj = _output_projection(codes, np.eye(2), identity=True)
    z = proj.lift(np.array([1.5, 1.5]), proj.centre())  # halfway between the first two
    # the near two weigh 5x the far two, symmetric about the diagonal; the blend keeps their length 3
    # (a plain weighted mean would have length 3 * sqrt(2) * 4 / 12 = 1.41)
    assert np.linalg.norm(z) == pytest.approx(3.0, rel=1e-5)
    assert z[0] == pytest.approx(z[1], rel=1e-5) and z[0] > 0


def test_an_output_map_of_many_features_is_their_pca():
    rng = np.random.default_rng(3)
    codes = rng.normal(size=(300, 4)).astype(np.float32)
    weights = rng.normal(size=(6, 4))
    proj = _output_projection(codes, weights)
    features = codes @ weights.T
    np.testing.assert_allclose(proj.points, PCAProjection(features).project(features), rtol=1e-4, atol=1e-4)
    assert proj.axis_titles()[0].startswith("output PC 1 (") and "PCA" in proj.describe()


# ---- coalescing -----------------------------------------------------------------------------------------

def test_latest_wins_replaces_a_waiting_job_and_never_blocks_the_caller():
    done: list[int] = []
    gate = threading.Event()
    worker = LatestWins("test-latest-wins")
    worker.submit("decode", lambda: (gate.wait(5), done.append(0)))
    time.sleep(0.05)  # the first job is running and blocked on the gate
    start = time.monotonic()
    for i in range(1, 200):
        worker.submit("decode", lambda i=i: done.append(i))
    worker.submit("other", lambda: done.append(-1))
    assert time.monotonic() - start < 0.5, "submit blocked"
    gate.set()
    assert worker.wait_idle(5)
    assert done == [0, 199, -1], done  # only the newest waiting decode ran
    assert worker.replaced["decode"] == 198
    worker.close()


def test_latest_wins_survives_a_failing_job_and_reports_it():
    errors: list[str] = []
    worker = LatestWins("test-errors", on_error=lambda kind, exc: errors.append(f"{kind}: {exc}"))
    worker.submit("a", lambda: 1 / 0)
    ran = []
    worker.submit("b", lambda: ran.append(True))
    assert worker.wait_idle(5) and ran == [True] and errors == ["a: division by zero"]
    worker.close()


# ---- maps, views and sessions on real models ------------------------------------------------------------

@pytest.fixture(scope="module")
def vae_run():
    run = gw.train("vae", data="mnist", preset="tiny", steps=40, checkpoint_every=None, log_every=20)
    run.wait()
    return run


def test_a_vae_map_holds_posterior_means_with_kl_and_thumbnails(vae_run):
    with ModelView(vae_run).calling() as model:
        latent_map = build_map(model, vae_run.data, n=300, source="auto")
        x = vae_run.data.examples(300, seed=0).x
        expected = model.encode(x).numpy()
    assert latent_map.source == "encode" and latent_map.codes.shape == (300, model.latent_dim)
    np.testing.assert_allclose(latent_map.codes, expected, atol=1e-5)
    assert latent_map.kl is not None and np.all(latent_map.kl >= 0)
    assert latent_map.thumbs.shape == (300, 28, 28, 1) and latent_map.thumbs.dtype == np.uint8
    assert latent_map.labels.shape == (300,) and "posterior means of 300 examples of mnist" in latent_map.description


def test_auto_source_encodes_only_with_a_one_pass_encoder():
    gan = gw.registry.get_registry().get_model("gan")
    vae = gw.registry.get_registry().get_model("vae")
    assert choose_source(vae, "auto", have_data=True) == "encode"
    assert choose_source(gan, "auto", have_data=True) == "prior"  # inversion is an optimisation per call
    assert choose_source(gan, "encode", have_data=True) == "encode"  # on request
    assert choose_source(vae, "auto", have_data=False) == "prior"
    with pytest.raises(CapabilityError, match="cannot encode"):
        choose_source(DecoderOnly, "encode", have_data=True)
    with pytest.raises(ConfigError, match="auto, encode, prior"):
        choose_source(vae, "umap", have_data=True)


def test_a_model_without_encode_gets_a_map_sliders_and_traversals_from_prior_codes():
    model = DecoderOnly(DecoderOnlyConfig(), data_spec=_points_spec())
    session = LatentSession(model, n=200)
    state = session.state
    assert state.latent_map.source == "prior" and state.latent_map.codes.shape == (200, 3)
    assert state.latent_map.points.shape == (200, 2) and state.latent_map.thumbs is None
    # laid out by output: for 2-D points, each code sits at its output
    assert isinstance(state.projection, OutputProjection) and session.layouts == ["outputs", "codes"]
    np.testing.assert_allclose(state.points, state.latent_map.points, atol=1e-6)
    weights = model.net.weight.detach().numpy()
    assert state.ranking.measure == EFFECT_MEASURE
    np.testing.assert_allclose(state.ranking.scores, sorted(np.sqrt(np.square(weights).mean(0)), reverse=True),
                               rtol=1e-4)
    assert session.set_projection(None, "codes").projection.describe().startswith("PCA of the codes")
    result = session.traversal(session.z, k=3, steps=5)
    assert result["outputs"].shape == (15, 2) and result["dims"] == state.ranking.order
    with torch.no_grad():
        expected = model.decode(torch.from_numpy(traversal(session.z, result["dims"], result["values"])))
    np.testing.assert_allclose(result["outputs"], expected.numpy(), atol=1e-5)


def test_a_model_without_decode_gets_a_clear_message():
    model = SampleOnly(DecoderOnlyConfig(), data_spec=_points_spec())
    with pytest.raises(CapabilityError, match=r"'sample_only' cannot decode.*'can_decode' capability"):
        LatentSession(model)


def test_probe_lifts_the_map_point_and_decodes_it(vae_run):
    session = LatentSession(vae_run, n=300)
    z, index = session.lift(0.3, -0.2)
    np.testing.assert_allclose(session.state.projection.project(z[None])[0], [0.3, -0.2], atol=1e-5)
    assert index == nearest_index(session.state.points, np.array([0.3, -0.2]))
    image = session.decode(z[None])
    with torch.no_grad(), vae_run.model.evaluating():
        expected = vae_run.model.decode(torch.from_numpy(z[None]))
    assert image.shape == (1, 28, 28, 1)
    assert np.abs(image.astype(int) - np.round(expected.numpy().transpose(0, 2, 3, 1) * 255)).max() <= 1
    session.set_fill("zero")
    z0, none = session.lift(0.3, -0.2)
    assert none is None
    with pytest.raises(ConfigError, match="nearest, zero"):
        session.set_fill("random")


def test_conditional_models_decode_with_the_chosen_class():
    run = gw.train("cgan", data="mnist", preset="tiny", steps=5, checkpoint_every=None)
    run.wait()
    session = LatentSession(run, n=100)
    assert session.conditional and session.num_classes == 10 and session.state.latent_map.source == "prior"
    assert session.state.latent_map.labels[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    z = session.z[None]
    session.set_label(3)
    three = session.decode(z)
    session.set_label(7)
    seven = session.decode(z)
    with torch.no_grad(), run.model.evaluating():
        expected = run.model.decode(torch.from_numpy(z), labels=torch.tensor([7]))
    assert np.abs(seven.astype(int) - np.round(expected.numpy().transpose(0, 2, 3, 1) * 255)).max() <= 1
    assert not np.array_equal(three, seven)
    with pytest.raises(ConfigError, match=r"\[0, 10\)"):
        session.set_label(10)


def test_a_snapshot_is_frozen_and_looking_never_changes_training():
    def trained(look: bool) -> torch.Tensor:
        run = gw.train("dcgan", data="mnist", preset="tiny", steps=30, checkpoint_every=None, config={"seed": 3})
        if look:
            session = LatentSession(run, n=64)
            for _ in range(5):
                session.rebuild()
                session.decode(session.z[None])
        run.wait()
        return torch.cat([p.detach().flatten() for p in run.model.parameters()])

    assert torch.equal(trained(False), trained(True))
    model = gw.build_model("vae", gw.load_data("mnist").spec, preset="tiny")
    frozen = frozen_copy(model)
    assert frozen is not model and not frozen.training and frozen.optimizers == {}
    assert all(not p.requires_grad for p in frozen.parameters())
    pairs = zip(frozen.state_dict().values(), model.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    assert model.training and model.optimizers  # the original is untouched
