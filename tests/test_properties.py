"""Property tests (hypothesis, bounded examples): quantisation rules, split editor operations, the
params validator and the palette. Each property names the rule it holds; a counterexample is a bug."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lib_scene.depth import quantize  # noqa: E402
from lib_scene.errors import ParamsError, SplitError  # noqa: E402
from lib_scene.palette import MAX_REGIONS, default_test_colour, region_color  # noqa: E402
from lib_scene.params import PlanParams, field_specs  # noqa: E402
from lib_scene.splits import TOTAL_LEVELS, Split, SplitPlan  # noqa: E402

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def plans(draw: st.DrawFn, max_splits: int = 5) -> SplitPlan:
    n = draw(st.integers(1, max_splits))
    start = draw(st.floats(0.05, 50.0))
    widths = draw(st.lists(st.floats(0.05, 100.0), min_size=n, max_size=n))
    bounds = [start]
    for w in widths:
        bounds.append(bounds[-1] + w)
    budget = TOTAL_LEVELS
    levels = []
    for _ in range(n):
        lv = draw(st.integers(0, min(budget, 120)))
        levels.append(lv)
        budget -= lv
    curve = draw(st.sampled_from(["linear", "inverse"]))
    return SplitPlan(
        tuple(Split(bounds[i], bounds[i + 1], levels[i]) for i in range(n)), cutoff=None, curve=curve
    )


def _samples(s: Split, curve: str, t: np.ndarray) -> np.ndarray:
    """Depths at fractions ``t`` of split ``s``, evenly in depth (linear) or in disparity (inverse)."""
    if curve == "linear":
        return s.start + t * (s.end - s.start)
    return 1.0 / (1.0 / s.start - t * (1.0 / s.start - 1.0 / s.end))


# --------------------------------------------------------------------------- quantisation


@FAST
@given(plans())
def test_each_split_gets_exactly_its_levels_as_distinct_greys(plan):
    offset = 0
    for s in plan.splits:
        t = (np.arange(s.levels) + 0.5) / max(s.levels, 1)  # the middle of every level
        d = _samples(s, plan.curve, t).astype(np.float64).astype(np.float32)[None, :]
        g = quantize(d, None, plan)[0]
        if s.levels == 0:
            assert d.size == 0 or not g.any()
        else:
            assert g.tolist() == [255 - (offset + j) for j in range(s.levels)]  # exact n greys, in order
        offset += s.levels


@FAST
@given(plans(), st.integers(0, 2**31))
def test_greys_never_increase_with_depth_and_black_rules_hold(plan, seed):
    rng = np.random.default_rng(seed)
    d = np.sort(rng.uniform(plan.start * 0.5, plan.end * 1.5, 2000)).astype(np.float32)
    g = quantize(d[None, :], None, plan)[0].astype(int)
    inside = (d >= plan.start) & (d <= np.float32(plan.end))
    gi = g[inside]
    # within the splits: non-increasing (near = white), except 0-level splits are black
    lit = gi[gi > 0]
    assert (np.diff(lit) <= 0).all()
    assert not g[d > np.float32(plan.end)].any(), "beyond the last end: black"
    # no-hit pixels are black whatever their depth
    hit = rng.random(d.size) < 0.5
    gh = quantize(d[None, :], hit[None, :], plan)[0]
    assert not gh[~hit].any() and (gh[hit] == g[hit]).all()


@FAST
@given(plans(), st.floats(0.0, 1.0))
def test_cutoff_blacks_everything_at_or_past_it(plan, frac):
    cut = plan.start + frac * (plan.end - plan.start)
    if cut <= 0:
        return
    cp = plan.set_cutoff(cut)
    d = np.linspace(plan.start, plan.end, 3000, dtype=np.float32)[None, :]
    g = quantize(d, None, cp)[0]
    assert not g[d[0] >= cut].any()
    assert (g[d[0] < cut] == quantize(d, None, plan)[0][d[0] < cut]).all()


@FAST
@given(st.lists(st.sampled_from([np.nan, np.inf, -np.inf]), min_size=1, max_size=50), plans())
def test_non_finite_depth_is_black(vals, plan):
    assert not quantize(np.array([vals], np.float32), None, plan).any()


# --------------------------------------------------------------------------- split editor operations

ops = st.one_of(
    st.tuples(st.just("add_cut"), st.floats(-10, 600) | st.just(math.nan)),
    st.tuples(st.just("move_boundary"), st.integers(-1, 7), st.floats(-10, 600)),
    st.tuples(st.just("remove"), st.integers(-7, 7)),
    st.tuples(st.just("merge"), st.integers(-1, 6), st.integers(-1, 6)),
    st.tuples(st.just("allocate"), st.integers(-1, 6), st.integers(-5, 300)),
    st.tuples(
        st.just("set_flag"),
        st.integers(0, 5),
        st.sampled_from(["region", "label", "test", "bogus"]),
        st.sampled_from([1, "red", "", None, -2, "#zz"]),
    ),
    st.tuples(st.just("set_cutoff"), st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))),
)


@FAST
@given(plans(), st.lists(ops, max_size=12))
def test_split_editor_operations_keep_a_valid_plan_or_refuse_cleanly(plan, steps):
    for name, *args in steps:
        before = plan
        try:
            plan = getattr(plan, name)(*args)
        except SplitError:
            plan = before
            continue
        plan.validate()  # every result is a valid plan
        assert plan.total_levels <= TOTAL_LEVELS
        assert all(a.end == b.start for a, b in zip(plan.splits, plan.splits[1:], strict=False))
        if name == "add_cut":
            assert len(plan.splits) == len(before.splits) + 1 and args[0] in plan.boundaries()
            assert plan.total_levels == before.total_levels
        if name in ("remove", "merge"):
            assert len(plan.splits) == len(before.splits) - 1 and plan.total_levels == before.total_levels
            assert (plan.start, plan.end) == (before.start, before.end)
    assert SplitPlan.from_dict(json.loads(plan.to_json())) == plan  # round trip


# --------------------------------------------------------------------------- params validator

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
KEYS = list(field_specs()) + ["depth", "normal", "regional", "regions"]


@FAST
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), json_values, max_size=6))
def test_any_params_object_validates_or_is_a_clear_params_error(data):
    try:
        p = PlanParams.from_dict(data)
    except ParamsError as exc:
        assert exc.problems and all(isinstance(m, str) and m for m in exc.problems)
        return
    assert PlanParams.from_dict(p.to_dict()) == p
    for v in p.flattened().values():
        assert not (isinstance(v, float) and not math.isfinite(v))


@FAST
@given(json_values)
def test_any_json_value_as_params_text_validates_or_is_a_params_error(value):
    try:
        text = json.dumps(value)
    except (ValueError, TypeError):
        return
    try:
        PlanParams.from_json(text)
    except ParamsError:
        pass


@FAST
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_any_text_as_params_is_params_or_a_params_error(text):
    try:
        PlanParams.from_json(text)
    except ParamsError as exc:
        assert str(exc).startswith("invalid Scene Import parameters")


# --------------------------------------------------------------------------- palette


@FAST
@given(st.integers(0, MAX_REGIONS - 1), st.integers(0, MAX_REGIONS - 1))
def test_region_colours_are_distinct_and_never_black(i, j):
    """Every region below MAX_REGIONS has its own colour (256 would repeat region 0's)."""
    a, b = region_color(i), region_color(j)
    assert all(0 <= c <= 255 for c in a) and a != (0, 0, 0)
    assert (a == b) == (i == j)
    assert region_color(MAX_REGIONS) == region_color(0), "MAX_REGIONS is exactly where colours repeat"


@FAST
@given(st.integers(0, 1023), st.integers(0, 1023))
def test_default_test_colours_are_distinct_bright_and_never_a_mask_colour(i, j):
    a, b = default_test_colour(i), default_test_colour(j)
    assert (a == b) == (i == j)
    assert max(a) == 255 and len(set(a)) > 1, "bright and never grey"
    assert a != region_color(i) and a != region_color(j)
