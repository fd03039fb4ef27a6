"""Challenges for ``values`` tasks: each module's ``make(seed, **kwargs)`` lists the calls the
sandbox makes to a student's function, and ``score(seed, outputs, **kwargs)`` turns what those
calls returned into metrics and a message. Both are pure NumPy and deterministic in ``seed``."""
