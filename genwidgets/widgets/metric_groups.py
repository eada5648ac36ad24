"""Which metrics share a plot, for the PNG fallback (the live panel's rules: js/src/lib/metric_groups.ts).

Losses with losses; a GAN's discriminator outputs D(x), D(G(z)) on a fixed 0-1 axis; a critic's
terms; a VAE's ELBO terms; any other metric alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricGroup:
    """One plot row: its title, its metrics (names, in column order), a fixed y range or None."""

    title: str
    names: tuple[str, ...]
    y_range: tuple[float, float] | None = None
    loggable: bool = True


#: (title, pattern, fixed range, whether a log axis applies), in the order the rows are drawn.
RULES: tuple[tuple[str, str, tuple[float, float] | None, bool], ...] = (
    ("losses", r"^(loss(_.*)?|.*_loss)$", None, True),
    ("D(x) on real, D(G(z)) on generated", r"^d_(real|fake)$", (0.0, 1.0), False),
    ("critic: W estimate, penalty", r"^(wasserstein|gp)$", None, False),
    ("ELBO terms (nats)", r"^(recon|kl|elbo|kl_.*)$", None, False),
)


def group_metrics(names: list[str]) -> list[MetricGroup]:
    """The plot rows for metrics ``names``: by :data:`RULES`, then one row per metric no rule takes."""
    groups, taken = [], set()
    for title, pattern, y_range, loggable in RULES:
        members = tuple(n for n in names if re.match(pattern, n))
        if members:
            taken.update(members)
            groups.append(MetricGroup(title, members, y_range, loggable))
    groups += [MetricGroup(n, (n,)) for n in names if n not in taken]
    return groups
