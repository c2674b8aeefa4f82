"""Reference implementations for the s2s-course: seq2seq with attention in Keras 3.

Every lesson in ``lessons/`` imports one module of this package (one module per
concept) and every exercise check compares a learner's code with it.

Importing the package imports TensorFlow with its C++ start-up logs silenced
(they are written before any log level applies), so import ``s2s_helpers``
before ``tensorflow``.
"""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"


def quick_mode() -> bool:
    """True when ``S2S_QUICK=1``: lessons shrink data and epochs to run in minutes."""
    return os.environ.get("S2S_QUICK", "0").strip().lower() in {"1", "true", "yes"}


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with file descriptor 2 captured.

    If the import fails, what TensorFlow wrote is replayed on stderr.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_import_tensorflow_quietly()
