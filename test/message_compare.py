"""Field-by-field comparison of messages that treats NaN as equal to NaN.

Generated messages compare with ``==``, but NaN (our "unknown" value) never equals itself, so
tests compare the messages' dict forms with this helper and get the path of the first mismatch.
"""

from __future__ import annotations

import math
from typing import Any


def assert_same(expected: Any, actual: Any, path: str = "msg") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a message, got {actual!r}"
        assert expected.keys() == actual.keys(), f"{path}: fields differ"
        for key in expected:
            assert_same(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a sequence, got {actual!r}"
        assert len(expected) == len(actual), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_same(e, a, f"{path}[{i}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), f"{path}: {actual!r} is not NaN"
    else:
        assert type(actual) is type(expected) and actual == expected, (
            f"{path}: {actual!r} != {expected!r}"
        )
