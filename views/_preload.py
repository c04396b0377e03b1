"""Import, once per server and before any page runs, the libraries the pages share.

On a fresh server two sessions loading at the same moment ran their first imports of pandas (which
Plotly imports lazily) in two script threads at once, and one student saw ``AttributeError: partially
initialized module 'pandas' has no attribute 'Series'``. ``app.py`` imports this module first on
every run: Python's per-module import lock makes every other script thread wait here until the
first one has finished, so the shared libraries are whole before any page touches them.
"""

import numpy  # noqa: F401
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import plotly.io  # noqa: F401
