"""pgolf.atomic.json_text, pgolf's one JSON edge: a NaN or infinite number is written as null and listed under
`non_finite`, every other value round-trips exactly, and the file always passes pgolf's strict JSON reader."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgolf import atomic, inputs

NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.sampled_from(
    [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 5e-324])
LEAVES = NUMBERS | st.none() | st.booleans() | st.text(max_size=5)
TREES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), inner, max_size=4), max_leaves=25)


def _nulled(obj):
    """The oracle: `obj` with each non-finite float as None, and how many there were."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None, 1
    if isinstance(obj, dict):
        pairs = {k: _nulled(v) for k, v in obj.items()}
        return {k: v for k, (v, _) in pairs.items()}, sum(n for _, n in pairs.values())
    if isinstance(obj, list):
        pairs = [_nulled(v) for v in obj]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    return obj, 0


# nested trees are slow to draw on a loaded 2-core machine: the property, not the draw speed, is tested
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), TREES, max_size=5))
def test_every_object_is_written_as_strict_json_with_its_non_finite_numbers_listed(obj):
    text = atomic.json_text(obj)
    back = inputs.parse_json(text, "written")  # refuses NaN and Infinity
    expected, count = _nulled(obj)
    listed = back.pop(atomic.NON_FINITE_KEY, [])
    assert back == expected
    assert len(listed) == count


def test_the_list_names_each_path():
    text = atomic.json_text({"runs": [{"val_bpb": 1.2}, {"val_bpb": float("nan")}], "mean": float("-inf"), "n": 2})
    back = json.loads(text)
    assert back["non_finite"] == ["runs[1].val_bpb", "mean"]
    assert back["runs"][1]["val_bpb"] is None and back["mean"] is None and back["n"] == 2
    assert "non_finite" not in json.loads(atomic.json_text({"a": 1e308}))  # huge but finite: a number


def test_a_non_finite_number_with_no_object_to_record_it_is_refused():
    with pytest.raises(ValueError, match=r"non-finite numbers at \[0\]"):
        atomic.json_text([float("nan")])
    with pytest.raises(ValueError, match="non-finite"):
        atomic.json_text({"non_finite": [], "x": float("inf")})
