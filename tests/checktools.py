"""Shared helpers for the tests of the exercise checks (``test_checks_lessonNN.py``).

They run a check the way the grader does: probe, round-trip the observation
through JSON, judge.
"""

from s2s_helpers.checks import framework


def outcome(exercise_id, *learner):
    """(status, message) of a check on the learner's objects."""
    return framework.outcome(exercise_id, framework.observe(exercise_id, *learner))


def stub(*args):
    """An exercise not attempted yet."""
    raise NotImplementedError()


def assert_round_trip(exercise_id, *learner):
    """The grader's JSON round trip gives the same outcome."""
    observation = framework.observe(exercise_id, *learner)
    again = framework.loads_observation(framework.dumps_observation(observation))
    assert framework.outcome(exercise_id, again) == framework.outcome(
        exercise_id, observation
    )


def passing_message(exercise_id, function):
    """The success message, asserting the JSON round trip judges the same."""
    observation = framework.observe(exercise_id, function)
    message = framework.verdict(exercise_id, observation)
    again = framework.loads_observation(framework.dumps_observation(observation))
    assert framework.verdict(exercise_id, again) == message  # what the grader sees
    return message


def failure_message(exercise_id, function):
    """The failure message, asserting the check failed (not errored)."""
    status, message = framework.outcome(
        exercise_id, framework.observe(exercise_id, function)
    )
    assert status == "failed", message
    return message
