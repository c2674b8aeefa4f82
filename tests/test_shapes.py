import numpy as np
import pytest

from s2s_helpers.shapes import AXES, ShapeChecker


def test_axes_vocabulary_is_the_course_one():
    assert {
        "batch",
        "src_len",
        "tgt_len",
        "units",
        "attention_units",
        "vocab",
        "beam",
        "frames",
        "mels",
        "embedding_dim",
    } <= set(AXES)


def test_checker_records_and_compares_names():
    check = ShapeChecker()
    check(np.zeros((2, 5, 8)), "batch src_len units")
    check(np.zeros((2, 8)), "batch units")
    with pytest.raises(
        ValueError, match="'units' has size 7 but an earlier tensor set it to 8"
    ):
        check(np.zeros((2, 7)), "batch units", name="state")


def test_checker_rank_and_literal_sizes():
    check = ShapeChecker()
    with pytest.raises(ValueError, match="rank 2"):
        check(np.zeros((2, 3, 4)), "batch units")
    check(np.zeros((2, 1)), "batch 1")
    with pytest.raises(ValueError, match="expected size 1"):
        check(np.zeros((2, 3)), "batch 1")
    check(np.zeros((9, 3)), "* units")  # '*' is not checked
