"""The package itself: importing it is light, and TensorFlow's first import is quiet."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess:
    env_free = {
        "TF_CPP_MIN_LOG_LEVEL",
        "TF_ENABLE_ONEDNN_OPTS",
    }  # s2s_helpers sets them
    env = {k: v for k, v in os.environ.items() if k not in env_free}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
    )


def test_importing_the_package_does_not_import_tensorflow():
    result = _python("import sys, s2s_helpers; print('tensorflow' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "first_use",
    [
        "import tensorflow as tf\nprint(tf.reduce_sum(tf.ones(3)).numpy())",
        "from s2s_helpers import attention, checks\nprint(attention.__name__)",
    ],
)
def test_tensorflow_imported_after_the_package_writes_nothing_on_stderr(first_use):
    """TensorFlow's C++ start-up logs (CUDA probing, absl) never reach a notebook."""
    result = _python(f"import s2s_helpers\n{first_use}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "the code printed nothing: it did not run"
    assert result.stderr == "", f"stray stderr: {result.stderr!r}"


def test_a_failing_tensorflow_import_still_shows_why(tmp_path):
    """What TensorFlow wrote before failing is replayed, not swallowed."""
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import os\nos.write(2, b'from the C++ side\\n')\nraise ImportError('broken build')\n"
    )
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\nimport s2s_helpers, tensorflow"
    result = _python(code)
    assert result.returncode != 0
    assert "from the C++ side" in result.stderr and "broken build" in result.stderr
