"""Helpers for the Day 5-3 network-monitoring course.

Notebooks import the modules they need explicitly, e.g.
``from helpers import flowlogs, reference, plots``.
"""

__version__ = "0.1.0"
