"""Training outside the kernel: torchrun worker processes and the notebook-side handle on them.

An application-level package beside :mod:`genwidgets.api`: :func:`launch` starts ``torchrun``
(``-m genwidgets.launcher.worker``) and returns a :class:`LaunchedRun` that mirrors a
:class:`~genwidgets.runtime.run.Run`.
"""

from .launched import LaunchedRun, launch

__all__ = ["LaunchedRun", "launch"]
