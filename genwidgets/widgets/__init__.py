"""Notebook widgets (anywidgets whose front ends live in ``js/src/``)."""

from .training_panel import TrainingPanel

__all__ = ["TrainingPanel"]
