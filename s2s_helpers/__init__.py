"""Reference implementations for the s2s-course: seq2seq with attention in Keras 3.

Every lesson in ``lessons/`` imports one module of this package (one module per
concept) and every exercise check compares a learner's code with it.

Importing the package does not import TensorFlow (the ``s2s-course`` command and
``s2s-course lab`` stay small). It arranges that the first import of TensorFlow
afterwards, by any module or notebook cell, runs with its C++ start-up logs
silenced (they are written before any log level applies), so import
``s2s_helpers`` before ``tensorflow``.
"""

import importlib.abc
import importlib.util
import os
import sys
import tempfile
from contextlib import contextmanager

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"


def quick_mode() -> bool:
    """True when ``S2S_QUICK=1``: lessons shrink data and epochs to run in minutes."""
    return os.environ.get("S2S_QUICK", "0").strip().lower() in {"1", "true", "yes"}


@contextmanager
def _stderr_captured():
    """Send file descriptor 2 to a temporary file; replay it if the body raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's own loader, and its device discovery, with fd 2 captured."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_captured():
            self._loader.exec_module(module)
            module.config.list_physical_devices()  # logs "no CUDA drivers" once

    def __getattr__(self, name):  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` for its first import and hands it a quiet loader."""

    _finding = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow" or self._finding:
            return None
        self._finding = True
        try:
            spec = importlib.util.find_spec(fullname)  # the usual finders
        finally:
            self._finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _quiet_tensorflow_import() -> None:
    """Make the first import of TensorFlow quiet (it may already have happened)."""
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


_quiet_tensorflow_import()
