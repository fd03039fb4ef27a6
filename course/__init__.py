"""The student-facing course library: runtime, data, training, layers and plots.

Import the submodules you need, e.g. ``from course import data, training``. Importing
``course`` itself stays cheap (it does not import Keras).
"""

__all__ = ["runtime", "data", "training", "layers", "plots"]
