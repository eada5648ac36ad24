"""The colour scale of a heatmap: what a score's colour means, chosen from the model's score kind.

* ``probability`` (D(x) = P(real) in (0, 1)): a fixed scale from 0 to 1 with 0.5 (undecided)
  in the middle, so colours mean the same thing at every step.
* ``critic`` (a WGAN critic's unbounded score, where only differences matter): a symmetric scale
  ``centre ± half_width`` around the midpoint between the mean score of the real and the
  generated examples shown (the critic's "undecided" point), wide enough for every value.

Both use one diverging palette (:data:`STOPS`, ColorBrewer's PiYG): magenta for "fake", white
for undecided, green for "real". The front end hands the same stops to plotly and draws the
score frames with the same interpolation (:func:`colour_at`), so all three agree.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

#: (position in [0, 1], RGB) stops of the palette, low (fake) to high (real).
STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (142, 1, 82)),
    (0.25, (222, 119, 174)),
    (0.5, (247, 247, 247)),
    (0.75, (127, 188, 65)),
    (1.0, (39, 100, 25)),
)


@dataclasses.dataclass(frozen=True)
class ColourScale:
    """A score range mapped onto :data:`STOPS`.

    Attributes:
        kind: ``"probability"`` or ``"critic"`` (the model's ``score_kind``).
        zmin: Score drawn with the first stop.
        zmax: Score drawn with the last stop.
        zmid: Score drawn white (0.5 for probabilities, the centre for critics).
        title: The legend's words: what the colours are, e.g. ``"D(x) = P(real)"``.
    """

    kind: str
    zmin: float
    zmax: float
    zmid: float
    title: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the front end (with the palette's stops)."""
        return {**dataclasses.asdict(self), "stops": [[p, list(rgb)] for p, rgb in STOPS]}


def _finite(values: Any) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    return a[np.isfinite(a)]


def choose_scale(score_kind: str, values: Any = (), *, real: Any = (), fake: Any = ()) -> ColourScale:
    """The colour scale for scores of ``score_kind`` (see the module docstring).

    Args:
        score_kind: The model's ``score_kind``: ``"probability"`` or ``"critic"``.
        values: Every score the view shows (used by critics to size the range).
        real: Scores of the real examples shown (critics centre between real and generated).
        fake: Scores of the generated examples shown.
    """
    if score_kind == "probability":
        return ColourScale("probability", 0.0, 1.0, 0.5, "D(x) = P(real): 0 fake, 1 real")
    if score_kind != "critic":
        raise ValueError(f"score_kind must be 'probability' or 'critic', got {score_kind!r}")
    everything = np.concatenate([_finite(values), _finite(real), _finite(fake)])
    r, f = _finite(real), _finite(fake)
    if r.size and f.size:
        centre = float((r.mean() + f.mean()) / 2)
    elif everything.size:
        centre = float(np.median(everything))
    else:
        centre = 0.0
    half = float(np.max(np.abs(everything - centre))) if everything.size else 1.0
    if not math.isfinite(half) or half <= 1e-6 * max(1.0, abs(centre)):
        half = max(1e-3, 1e-3 * abs(centre))
    return ColourScale("critic", centre - half, centre + half, centre,
                       f"critic score (unbounded; higher = more real), centred at {centre:.3g}")


def colour_at(scale: ColourScale, values: Any) -> np.ndarray:
    """RGB uint8 colours (..., 3) of ``values`` on ``scale`` (NaN is drawn grey)."""
    v = np.asarray(values, dtype=np.float64)
    span = scale.zmax - scale.zmin
    t = np.clip((v - scale.zmin) / span, 0.0, 1.0) if span > 0 else np.full(v.shape, 0.5)
    pos = np.array([p for p, _ in STOPS])
    rgb = np.array([c for _, c in STOPS], dtype=np.float64)
    out = np.stack([np.interp(np.nan_to_num(t, nan=0.5), pos, rgb[:, k]) for k in range(3)], axis=-1)
    out[np.isnan(v)] = 128.0
    return (out + 0.5).astype(np.uint8)
