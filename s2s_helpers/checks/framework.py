"""The machinery behind every exercise check, in one import.

The checks package has one module per part, and this module gathers their
public names so that a lesson's checks (and the class grader) import one place:

* ``registry``: ``exercise(...)`` declares an exercise and returns its check;
* ``runner``: ``observe`` (probe), ``verdict`` (judge), ``run``, ``outcome``;
* ``expect``: ``CheckFailed``, ``fail``, ``expect_*``, ``Mistake``, oracles;
* ``codec``: observations as JSON (``dumps_observation``, ``loads_observation``);
* ``learner_errors``: an error in the learner's code in plain words, with its line;
* ``display``: how an outcome looks (one to four lines, no traceback);
* ``hints``: hints in levels, ``show_solution``.

Taught in: lessons/00_orientation.ipynb
"""

from s2s_helpers.checks.codec import (  # noqa: F401
    dumps_observation,
    loads_observation,
    to_numpy,
)
from s2s_helpers.checks.display import GREEN, RESET  # noqa: F401
from s2s_helpers.checks.expect import (  # noqa: F401
    CheckFailed,
    Mistake,
    expect_array,
    expect_close,
    expect_dtype,
    expect_shape,
    fail,
    last_line,
    log_softmax,
    preview,
    softmax,
)
from s2s_helpers.checks.hints import (  # noqa: F401
    hint,
    show_solution,
    solution_source,
    solutions_dir,
)
from s2s_helpers.checks.registry import (  # noqa: F401
    EXERCISES,
    Exercise,
    exercise,
    get,
    grade_id_for,
    parse_grade_id,
    register,
)
from s2s_helpers.checks.runner import observe, outcome, run, verdict  # noqa: F401
