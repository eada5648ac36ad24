"""genwidgets.scores: plane grids, batched scoring, colour scales, gradients, latent planes, snapshots.

Real models (tiny presets) on real data; the only wrappers count calls to a real ``discriminate``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import genwidgets as gw
from genwidgets.errors import ConfigError
from genwidgets.runtime.model_snapshot import shared_snapshot
from genwidgets.scores import PlaneGrid, auto_extent, choose_scale, colour_at, score_batched
from genwidgets.scores.colour import STOPS
from genwidgets.scores.gradients import arrow_segments, generator_direction
from genwidgets.scores.grid import score_plane
from genwidgets.scores.latent_slice import axes_plane, random_plane, score_latent_plane
from genwidgets.scores.score_grid import order
from genwidgets.scores.snapshot import FrameModel


class Counting:
    """Wraps a real ``discriminate`` and records the batch size of every call."""

    def __init__(self, fn):
        self.fn, self.sizes = fn, []

    def __call__(self, x, **kw):
        self.sizes.append(len(x))
        return self.fn(x, **kw)


@pytest.fixture(scope="module")
def ring_gan() -> gw.Run:
    run = gw.train("gan", data="ring", preset="toy2d", steps=60, checkpoint_every=None, start=False)
    run.step(60)
    return run


# ---- grids -----------------------------------------------------------------------------------
def test_plane_grid_points_are_cell_centres_row_major_with_rows_going_up() -> None:
    g = PlaneGrid(-1.0, 1.0, 0.0, 4.0, resolution=4)
    np.testing.assert_allclose(g.xs, [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(g.ys, [0.5, 1.5, 2.5, 3.5])
    p = g.points().numpy().reshape(4, 4, 2)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p[0, :, 0], g.xs)      # first row: every x at the lowest y
    np.testing.assert_allclose(p[:, 0, 1], g.ys)      # first column: every y at the leftmost x
    assert g.cell_of(0.3, 3.9) == (3, 2) and g.cell_of(-5, -5) == (0, 0)


@pytest.mark.parametrize("bad", [dict(resolution=1), dict(resolution=128.0), dict(x0=2.0), dict(y1=float("nan"))])
def test_plane_grid_refuses_bad_settings_and_says_what_is_wrong(bad: dict) -> None:
    args = {"x0": -1.0, "x1": 1.0, "y0": -1.0, "y1": 1.0, "resolution": 8, **bad}
    with pytest.raises(ConfigError, match="resolution|extent"):
        PlaneGrid(**args)


def test_auto_extent_is_square_padded_and_ignores_non_finite_points() -> None:
    pts = np.array([[0.0, 0.0], [4.0, 1.0], [np.nan, 100.0]])
    x0, x1, y0, y1 = auto_extent(pts, margin=0.25)
    assert x1 - x0 == pytest.approx(6.0) and y1 - y0 == pytest.approx(6.0)    # 4 + 2 * 0.25 * 4
    assert (x0 + x1) / 2 == pytest.approx(2.0) and (y0 + y1) / 2 == pytest.approx(0.5)


# ---- batching -------------------------------------------------------------------------------
def test_a_128_grid_is_one_forward_pass_with_the_same_values_as_pointwise_scoring(ring_gan: gw.Run) -> None:
    model = ring_gan.model
    counting = Counting(model.discriminate)
    grid = PlaneGrid(-1.5, 1.5, -1.5, 1.5, resolution=128)
    with model.evaluating(), torch.no_grad():
        z = score_plane(counting, grid)
        direct = model.discriminate(grid.points()[:: 997]).numpy()
    assert counting.sizes == [128 * 128]
    assert z.shape == (128, 128) and z.dtype == np.float32
    np.testing.assert_allclose(z.reshape(-1)[:: 997], direct, rtol=1e-5, atol=1e-6)
    assert 0 < z.min() < z.max() < 1 and z.std() > 0.01


def test_bigger_grids_are_chunked_to_bound_memory_and_give_identical_results(ring_gan: gw.Run) -> None:
    model = ring_gan.model
    x = PlaneGrid(-2, 2, -2, 2, resolution=100).points()
    counting = Counting(lambda c: model.discriminate(c))
    with model.evaluating(), torch.no_grad():
        whole = score_batched(lambda c: model.discriminate(c), x)
        parts = score_batched(counting, x, max_batch=3000)
    assert counting.sizes == [3000, 3000, 3000, 1000]
    torch.testing.assert_close(whole, parts)
    with pytest.raises(ConfigError, match="max_batch"):
        score_batched(counting, x, max_batch=0)


# ---- colour scales --------------------------------------------------------------------------
def test_probabilities_get_a_fixed_0_to_1_scale_whatever_the_values() -> None:
    s = choose_scale("probability", [0.4, 0.45], real=[0.45], fake=[0.4])
    assert (s.zmin, s.zmid, s.zmax) == (0.0, 0.5, 1.0) and "P(real)" in s.title


def test_critic_scores_get_a_symmetric_scale_around_the_real_fake_midpoint_that_holds_every_value() -> None:
    values = np.array([-7.0, 3.0, 40.0])
    s = choose_scale("critic", values, real=[12.0, 14.0], fake=[2.0, 4.0])
    assert s.zmid == pytest.approx(8.0)                              # (13 + 3) / 2
    assert s.zmid - s.zmin == pytest.approx(s.zmax - s.zmid)         # symmetric
    assert s.zmin <= -7 and s.zmax >= 40 and s.zmax == pytest.approx(40.0)
    assert "unbounded" in s.title and "8" in s.title
    flat = choose_scale("critic", [5.0, 5.0])                        # no spread: still a usable range
    assert flat.zmin < 5.0 < flat.zmax
    with pytest.raises(ValueError, match="score_kind"):
        choose_scale("logit", [1.0])


def test_colour_at_follows_the_palette_and_marks_missing_values_grey() -> None:
    s = choose_scale("probability")
    c = colour_at(s, [0.0, 0.5, 1.0, 2.0, float("nan")])
    assert c.dtype == np.uint8
    assert c[0].tolist() == list(STOPS[0][1]) and c[1].tolist() == list(STOPS[2][1])
    assert c[2].tolist() == list(STOPS[-1][1]) == c[3].tolist()      # clipped
    assert c[4].tolist() == [128, 128, 128]


# ---- generator arrows -----------------------------------------------------------------------
def test_arrows_are_the_gradient_of_log_d_and_match_autograd_on_a_real_discriminator(ring_gan: gw.Run) -> None:
    model = ring_gan.model
    x = model.preview()[:32]
    counting = Counting(model.discriminate)
    with model.evaluating(), torch.no_grad():
        fd = generator_direction(counting, x, score_kind="probability", step=3e-3)
    assert counting.sizes == [32 * 4]                                  # one batched call
    with model.evaluating():
        xa = x.clone().requires_grad_(True)
        logits = model.critic(model.to_model_range(xa))
        (grad,) = torch.autograd.grad(F.logsigmoid(logits).sum(), xa)
    cos = F.cosine_similarity(torch.from_numpy(fd).double(), grad.double(), dim=1)
    assert cos.min() > 0.999, cos
    err = (torch.from_numpy(fd).double() - grad.double()).norm(dim=1) / grad.double().norm(dim=1)
    assert err.max() < 0.05, err  # within 5 % (the MLP is piecewise linear: kinks cost a little)


def test_arrow_segments_keep_relative_lengths_with_the_longest_at_the_given_length() -> None:
    pts = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], np.float32)
    grad = np.array([[3.0, 4.0], [0.0, 1.0], [0.0, 0.0]], np.float32)
    a = arrow_segments(pts, grad, length=0.5)
    assert a.shape == (3, 4) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a[:, 2:], axis=1), [0.5, 0.1, 0.0], atol=1e-6)
    np.testing.assert_allclose(a[0, 2:], [0.3, 0.4], atol=1e-6)


# ---- latent slices --------------------------------------------------------------------------
def test_latent_planes_along_axes_or_random_orthonormal_directions() -> None:
    centre = torch.arange(5.0)
    p = axes_plane(centre, (1, 3), span=2.0, resolution=4)
    codes = p.codes().reshape(4, 4, 5)
    np.testing.assert_allclose(codes[0, :, 1], centre[1] + torch.tensor([-1.5, -0.5, 0.5, 1.5]))
    np.testing.assert_allclose(codes[:, 0, 3], centre[3] + torch.tensor([-1.5, -0.5, 0.5, 1.5]))
    np.testing.assert_allclose(codes[..., [0, 2, 4]], np.broadcast_to([0.0, 2.0, 4.0], (4, 4, 3)))
    r = random_plane(centre, seed=3)
    assert abs(float(r.u @ r.v)) < 1e-6 and float(r.u.norm()) == pytest.approx(1.0)
    torch.testing.assert_close(random_plane(centre, seed=3).u, r.u)    # seeded
    with pytest.raises(ConfigError, match="two different"):
        axes_plane(centre, (2, 2))
    with pytest.raises(ConfigError, match="span"):
        axes_plane(centre, (0, 1), span=0.0)


def test_latent_slice_scores_decoded_codes_in_batches_and_returns_thumbnails() -> None:
    run = gw.train("dcgan", data="digits", preset="tiny", steps=5, checkpoint_every=None, start=False)
    run.step(5)
    model = run.model
    counting = Counting(model.discriminate)
    plane = axes_plane(model.fixed_noise()[0][0], (0, 1), resolution=16)
    with model.evaluating(), torch.no_grad():
        z, thumbs = score_latent_plane(model.decode, counting, plane, thumbs=4)
        direct = model.discriminate(model.decode(plane.codes()[:3])).numpy()
    assert counting.sizes == [256] and z.shape == (16, 16)
    np.testing.assert_allclose(z.reshape(-1)[:3], direct, rtol=1e-5)
    assert thumbs.shape == (4, 4, 8, 8, 1) and thumbs.dtype == np.uint8


def test_score_grid_order() -> None:
    s = np.array([0.2, 0.9, 0.5, 0.9], np.float32)
    assert order(s, "desc").tolist() == [1, 3, 2, 0]
    assert order(s, "asc").tolist() == [0, 2, 1, 3]
    assert order(s, "none").tolist() == [0, 1, 2, 3]


# ---- snapshots ------------------------------------------------------------------------------
def test_frames_are_computed_on_the_runs_shared_snapshot_while_the_run_is_free_to_train(ring_gan: gw.Run) -> None:
    frames = FrameModel(ring_gan.model, ring_gan)
    assert frames.shared is shared_snapshot(ring_gan)                   # the one every widget of the run uses
    with frames.view() as look:
        model = look.model
        assert look.step == ring_gan.step_count and model is frames.shared.current.model
        assert model is not ring_gan.model and not model.training
        assert not model.optimizers                                      # optimizer state is not copied
        got = []

        def another_thread_steps_between() -> None:
            with ring_gan.between_steps():   # what the training loop takes for each step
                got.append(True)

        t = threading.Thread(target=another_thread_steps_between)
        t.start()
        t.join(timeout=5)
        assert got == [True], "the step lock was held while computing on the copy"
        for a, b in zip(model.state_dict().values(), ring_gan.model.state_dict().values(), strict=True):
            torch.testing.assert_close(a, b)
    assert frames.version() == look.version                             # nothing moved: the same frame


def test_without_a_copy_frames_hold_the_step_lock_and_a_bare_model_is_looked_at_in_place(ring_gan: gw.Run) -> None:
    frames = FrameModel(ring_gan.model, ring_gan, copy_model=False)
    assert frames.shared is None
    entered = threading.Event()

    def another_thread_steps_between() -> None:
        with ring_gan.between_steps():
            entered.set()

    with frames.view() as look:
        assert look.model is ring_gan.model and not look.model.training
        t = threading.Thread(target=another_thread_steps_between)
        t.start()
        assert not entered.wait(0.5), "the step lock must be held while computing on the live model"
    assert entered.wait(5) and ring_gan.model.training
    t.join(timeout=5)
    model = gw.build_model("gan", gw.load_data("ring").spec, preset="tiny")
    bare = FrameModel(model)
    with bare.view() as look:
        assert look.model is model and not model.training and look.step == 0
    assert model.training                                               # its mode is given back
