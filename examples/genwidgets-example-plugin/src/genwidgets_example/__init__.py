"""An example genwidgets plugin: the ``gaussian`` model family and a panel for its runs.

The entry point (``genwidgets.plugins`` -> ``example``) names :mod:`genwidgets_example.plugin`,
which imports no torch; the model and panel modules load when genwidgets asks for them.
"""

__version__ = "0.1.0"
