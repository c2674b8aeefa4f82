"""The grader's code that runs inside a student's kernel: silence it, then probe.

The kernel never imports this module: ``probes`` reads its source and runs it
in a fresh namespace from a cell, so whatever the notebook did to
``s2s_helpers`` is not used. It imports only the standard library and the
course's checks, loaded fresh from their files as a whole package under the
names they have (``s2s_helpers.checks.*``); the notebook's modules are put back
afterwards.

A probe calls the student's objects through the check's ``observe`` and writes
the observation as JSON (with the probe's token) to a file in the sandbox's
private folder; the grader reads it after the kernel has ended
(``probes.read_observation``) and judges it in its own process.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

import importlib
import json
import os
import sys
import traceback
import types

CHECKS = "s2s_helpers.checks"


def quiet(shell) -> None:
    """Discard the notebook's output at the source: the grader keeps only errors."""

    class Sink:
        def __init__(self, stream):
            self._stream = stream

        def write(self, text):
            return len(text)

        def writelines(self, lines):
            pass

        def flush(self):
            pass

        def __getattr__(self, name):
            return getattr(self._stream, name)

    sys.stdout, sys.stderr = Sink(sys.stdout), Sink(sys.stderr)
    shell.ast_node_interactivity = "none"
    shell.display_pub.publish = lambda *args, **kwargs: None


def _last_line(error: BaseException) -> str:
    return traceback.format_exception_only(type(error), error)[-1].strip()


def _checks_modules() -> dict:
    return {
        name: module
        for name, module in list(sys.modules.items())
        if name == CHECKS or name.startswith(CHECKS + ".")
    }


def fresh_checks(checks_dir: str, lesson_module: str):
    """The checks' ``framework`` module, loaded fresh from ``checks_dir``.

    The package is a new module whose ``__path__`` is ``checks_dir``, so every
    module of it (``framework`` and whatever it imports, the lesson's module)
    comes from its file; every ``s2s_helpers.checks*`` entry of ``sys.modules``
    is saved first and restored afterwards.
    """
    saved = _checks_modules()
    for name in saved:
        del sys.modules[name]
    try:
        package = types.ModuleType(CHECKS)
        package.__path__ = [checks_dir]
        package.__package__ = CHECKS
        sys.modules[CHECKS] = package
        framework = importlib.import_module(CHECKS + ".framework")
        importlib.import_module(f"{CHECKS}.{lesson_module}")
        return framework
    finally:
        for name in _checks_modules():
            del sys.modules[name]
        sys.modules.update(saved)


def probe(checks_dir, lesson_module, exercise_id, out_path, token, get_arguments):
    """Observe one exercise with the student's objects; write the observation."""
    try:
        framework = fresh_checks(checks_dir, lesson_module)
        try:
            observation = framework.observe(exercise_id, *get_arguments())
        except BaseException as error:
            observation = {"status": "error", "error": _last_line(error)}
        text = framework.dumps_observation(observation)
    except BaseException as error:
        failure = {"status": "error", "error": "the check failed: " + _last_line(error)}
        text = json.dumps(failure)
    payload = {"token": token, "exercise": exercise_id, "observation": text}
    with open(out_path + ".part", "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.replace(out_path + ".part", out_path)
