"""Exercise checks for every lesson: ``checks.check_<thing>(learner_code)``.

Each lesson has its own module (``lesson03`` for ``03_attention``); their
public ``check_*`` functions are re-exported here, so a notebook only needs
``from s2s_helpers import checks``.

Taught in: lessons/00_orientation.ipynb
"""

import importlib
import pkgutil

from s2s_helpers.checks.framework import (  # noqa: F401
    EXERCISES,
    CheckFailed,
    dumps_observation,
    get,
    hint,
    loads_observation,
    observe,
    outcome,
    run,
    show_solution,
    verdict,
)

LESSON_MODULES = []
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _info.name.startswith("lesson"):
        _module = importlib.import_module(f"{__name__}.{_info.name}")
        LESSON_MODULES.append(_module)
        for _name in dir(_module):
            if _name.startswith("check_"):
                _check = getattr(_module, _name)
                _check.__name__ = _check.__qualname__ = _name  # as notebooks call it
                globals()[_name] = _check
