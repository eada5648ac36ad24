"""The static figures (PNG fallbacks, the demo's figures) explain themselves: round ticks, colour bars, keys."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from genwidgets.scores.colour import ColourScale, colour_at
from genwidgets.widgets.metric_groups import group_metrics
from genwidgets.widgets.png.axes import nice_ticks, tick_text
from genwidgets.widgets.png.heatmap import BAR_SPACE, LEFT, TOP, render_frame_png


@pytest.mark.parametrize("lo, hi", [(0, 1), (0.61, 1.35), (2, 30), (-1.53, 1.53), (0, 20_000), (1e-5, 3e-4)])
def test_ticks_are_round_evenly_spaced_and_inside_the_range(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert 3 <= len(ticks) <= 11, ticks
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5)), steps[0]
    assert lo - 1e-12 <= ticks[0] and ticks[-1] <= hi + 1e-12
    labels = [tick_text(t, ticks) for t in ticks]
    assert len(set(labels)) == len(labels), labels  # enough decimals to tell them apart


def test_metrics_are_grouped_as_the_live_panel_groups_them():
    groups = group_metrics(["loss_d", "loss_g", "d_real", "d_fake", "fid"])
    assert [(g.title, g.names, g.y_range) for g in groups] == [
        ("losses", ("loss_d", "loss_g"), None),
        ("D(x) on real, D(G(z)) on generated", ("d_real", "d_fake"), (0.0, 1.0)),
        ("fid", ("fid",), None)]


def test_a_heatmap_figure_has_a_colour_bar_from_low_to_high():
    scale = ColourScale("probability", 0.0, 1.0, 0.5, "D(x) = P(real): 0 fake, 1 real")
    z = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))
    frame = {"view": "plane", "step": 7, "extent": [-1.0, 1.0, -1.0, 1.0], "z": z, "scale": scale.to_dict(),
             "real": np.zeros((0, 2), np.float32), "fake": np.zeros((0, 2), np.float32),
             "arrows": np.zeros((0, 4), np.float32), "summary": {"real_mean": 0.7, "fake_mean": 0.3}}
    img = np.asarray(Image.open(io.BytesIO(render_frame_png(frame, title="gan on ring"))).convert("RGB")).astype(int)
    bar_x = img.shape[1] - BAR_SPACE + 24 + 8  # the middle of the bar's 16 px
    column = img[TOP + 30:img.shape[0] - 60, bar_x]
    top, bottom = column[0], column[-1]
    assert np.abs(top - colour_at(scale, 1.0)).max() <= 12, top   # high scores at the top
    assert np.abs(bottom - colour_at(scale, 0.0)).max() <= 12, bottom
    assert LEFT > 40  # room for the y ticks and title, left of the plot
