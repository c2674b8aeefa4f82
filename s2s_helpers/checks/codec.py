"""Observations as plain, safe data: JSON in and out, arrays included, no pickle.

A probe's observation crosses from the learner's kernel to the judge as JSON,
in a notebook as well as in the class grader, so both judge exactly the same
data (tuples become lists, tensors numpy arrays).

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np


def to_numpy(value: Any) -> np.ndarray:
    """Convert a tensor / array / list to a numpy array (for probes)."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray) or hasattr(value, "numpy"):
        array = to_numpy(value)
        if array.dtype == object:
            raise TypeError("object arrays cannot be stored in an observation")
        return {
            "__ndarray__": array.tolist(),
            "dtype": str(array.dtype),
            "shape": list(array.shape),
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            array = np.array(value["__ndarray__"], dtype=value["dtype"])
            return array.reshape(value["shape"])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def dumps_observation(observation: dict) -> str:
    """Serialise an observation to JSON (no pickle: safe to load anywhere)."""
    return json.dumps(_encode(observation))


def loads_observation(text: str) -> dict:
    """Inverse of :func:`dumps_observation`."""
    observation = _decode(json.loads(text))
    if not isinstance(observation, dict):
        raise ValueError("an observation must be a JSON object")
    return observation
