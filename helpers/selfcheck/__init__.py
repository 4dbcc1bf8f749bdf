"""Self-check questions of the notebooks: ``selfcheck.check("06-2", answer)``.

Every answer is computed from the course data by the question's module (one per notebook),
so a saved notebook never holds a typed-in answer; see :mod:`helpers.selfcheck.core`.
"""

from helpers.selfcheck import notebook01, notebook06  # noqa: F401 (each registers its questions)
from helpers.selfcheck.core import QUESTIONS, Question, check, is_correct

__all__ = ["QUESTIONS", "Question", "check", "is_correct"]
