"""The course-wide registry of exercises and the ``exercise(...)`` declaration.

Every lesson module declares each of its exercises once::

    check_masked_softmax = exercise(
        "3.2",
        "masked_softmax",
        arguments=("masked_softmax",),
        probe=_probe_softmax,
        judge=_judge_softmax,
        hints=("a nudge", "a stronger hint"),
        axes={"batch": 3, "src_len": 5},
    )

which registers the exercise and returns the check function a notebook calls:
``checks.check_masked_softmax(masked_softmax)``.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

EXERCISES: dict[str, "Exercise"] = {}


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id ("3.2"), a title, the probe, the judge and its hints.

    Attributes:
        id: "<lesson>.<n>", e.g. "3.2".
        title: what the learner writes, e.g. "masked_softmax".
        probe: ``probe(*learner_objects) -> observation`` (runs the learner's code).
        judge: ``judge(observation) -> success message`` or raises ``CheckFailed``.
        hints: general hints from a nudge to the strongest; mistake-specific hints
            come with a ``CheckFailed`` and are given first.
        arguments: names of the objects the check takes, e.g. ("masked_softmax",).
        axes: the sizes of the check's inputs by axis name, e.g. {"batch": 3}; an
            error message names an axis whose size is unique among them.
    """

    id: str
    title: str
    probe: Callable[..., dict]
    judge: Callable[[dict], str]
    hints: tuple[str, ...]
    arguments: tuple[str, ...] = ()
    axes: dict[str, int] = field(default_factory=dict)

    @property
    def hint(self) -> str:
        """The first general hint (what a grader's feedback shows)."""
        return self.hints[0]

    @property
    def grade_id(self) -> str:
        """The nbgrader ``grade_id`` of the exercise's check cell."""
        return grade_id_for(self.id, "check")

    @property
    def axis_names(self) -> dict[int, str]:
        """{size: axis name} for the sizes that only one axis has."""
        sizes = list(self.axes.values())
        return {
            size: name for name, size in self.axes.items() if sizes.count(size) == 1
        }


def grade_id_for(exercise_id: str, kind: str) -> str:
    """nbgrader grade id of an exercise's cell: ``kind`` is "exercise" or "check"."""
    if kind not in {"exercise", "check"}:
        raise ValueError(f"kind must be 'exercise' or 'check', received {kind!r}")
    return f"{kind}-{exercise_id.replace('.', '-')}"


def parse_grade_id(grade_id: str) -> tuple[str, str]:
    """Inverse of :func:`grade_id_for`: "check-3-2" -> ("check", "3.2").

    Raises:
        ValueError: ``grade_id`` is not an exercise or check cell's grade id.
    """
    kind, _, rest = str(grade_id).partition("-")
    parts = rest.split("-")
    if kind not in {"exercise", "check"} or not all(p.isdigit() for p in parts):
        raise ValueError(
            f"not an exercise grade id: {grade_id!r} (expected e.g. 'check-3-2')"
        )
    return kind, ".".join(parts)


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to the course-wide registry; ids must be unique."""
    if exercise.id in EXERCISES and EXERCISES[exercise.id] is not exercise:
        raise ValueError(f"Exercise {exercise.id} is registered twice.")
    if not exercise.hints:
        raise ValueError(f"Exercise {exercise.id} needs at least one hint.")
    EXERCISES[exercise.id] = exercise
    return exercise


def get(exercise_id: str) -> Exercise:
    """The registered exercise with this id, or a ``KeyError`` listing the ids."""
    try:
        return EXERCISES[str(exercise_id)]
    except KeyError:
        known = ", ".join(sorted(EXERCISES, key=sort_key)) or "none"
        raise KeyError(
            f"No exercise {exercise_id!r}. Known exercises: {known}."
        ) from None


def sort_key(exercise_id: str) -> tuple[int, ...]:
    """Order exercise ids numerically: "3.10" after "3.9"."""
    return tuple(int(part) for part in exercise_id.split("."))


def exercise(
    exercise_id: str,
    title: str,
    *,
    arguments: tuple[str, ...],
    probe: Callable[..., dict],
    judge: Callable[[dict], str],
    hints: tuple[str, ...],
    axes: dict[str, int] | None = None,
) -> Callable[..., None]:
    """Declare and register an exercise; return its check function.

    The check function takes the learner's objects named in ``arguments`` (in
    that order), probes and judges them, and prints the one-line outcome.
    """
    registered = register(
        Exercise(
            exercise_id, title, probe, judge, tuple(hints), tuple(arguments), axes or {}
        )
    )

    def check(*learner_objects) -> None:
        from s2s_helpers.checks.runner import run

        if len(learner_objects) != len(registered.arguments):
            names = ", ".join(registered.arguments)
            raise TypeError(
                f"The check of Exercise {exercise_id} takes {len(registered.arguments)} "
                f"argument(s), ({names}); received {len(learner_objects)}. Call it as "
                f"it is written in the lesson's check cell."
            )
        run(exercise_id, *learner_objects)

    check.__doc__ = (
        f"Check Exercise {exercise_id} ({title}): call with ({', '.join(arguments)})."
    )
    return check
