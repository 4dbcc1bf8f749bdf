"""Self-check questions of the notebooks: ``selfcheck.check("06-2", answer)``.

Every answer is computed from the course data by the question's module (``notebookNN.py``,
one per notebook, each registering its questions when imported), so a saved notebook never
holds a typed-in answer; see :mod:`helpers.selfcheck.core`.
"""

import importlib
import pkgutil

from helpers.selfcheck.core import QUESTIONS, Question, check, is_correct

__all__ = ["QUESTIONS", "Question", "check", "is_correct"]

for _module in pkgutil.iter_modules(__path__):
    if _module.name.startswith("notebook"):
        importlib.import_module(f"{__name__}.{_module.name}")
