"""Notebook rules enforced while nbval runs them.

In ``lessons/`` (student versions) only the check cells, tagged
``raises-exception``, may fail, and each must fail with
``NotImplementedError`` (the exercise is not attempted yet) — any other error
means the lesson is broken for a learner who has not started. In
``solutions/`` nothing is tagged, so every cell must pass.
"""

from pathlib import Path

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    if type(item).__name__ == "IPyNbCell" and "lessons" in Path(str(item.fspath)).parts:
        tags = item.cell.get("metadata", {}).get("tags", [])
        errors = [out for out in (item.test_outputs or []) if "ename" in out]
        if "raises-exception" in tags:
            names = [out["ename"] for out in errors]
            if names != ["NotImplementedError"]:
                raise AssertionError(
                    f"check cell {item.name} of {item.fspath} should raise "
                    f"NotImplementedError before the exercise is attempted; raised {names}"
                )
    return result
