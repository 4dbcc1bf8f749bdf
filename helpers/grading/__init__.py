"""The graded labs' data and checks (floor 4: any helpers module but ``helpers.aws``).

A lab notebook imports its module, makes the student's own data from the student ID, and its
otter tests call the module's checks::

    from helpers.grading import lab3
    records = lab3.student_data(STUDENT_ID)          # this student's data, every run the same
    lab3.check_scanner(find_scanner, STUDENT_ID)     # public test: the student's data
    lab3.check_scanner(find_scanner, seed=hidden_seed(...))   # hidden test: unseen data

- :mod:`~helpers.grading.core`: student IDs and seeds, each seed's VPC and internet, answer
  normal forms, sealed answer keys.
- :mod:`~helpers.grading.results`: query results compared by content.
- :mod:`~helpers.grading.lab1` … :mod:`~helpers.grading.lab4`: each lab's data, answer keys
  and checks.

Authoring, building the student copies and batch grading are in ``labs/`` (``make labs``,
``make grade``).

The lab modules are not imported here: a lab notebook imports only its own
(``from helpers.grading import lab3``), which keeps a grading kernel's start short.
"""

from helpers.grading.core import (
    GradingError,
    Mismatch,
    check_student_id,
    hidden_seed,
    student_seed,
)

__all__ = ["GradingError", "Mismatch", "check_student_id", "hidden_seed", "student_seed"]
