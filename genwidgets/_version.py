"""The package version: the same as ``pyproject.toml``'s (tests/test_layers.py keeps them equal)."""

__version__ = "0.1.0"
