"""Quantisation: exact greys per split, monotone, black where it must be; test/region images; usage."""

import math

import numpy as np
import pytest

from lib_scene.depth import (
    auto_plan,
    level_usage,
    quantize,
    region_image,
    split_counts,
)
from lib_scene.depth import (
    test_image as make_test_image,
)
from lib_scene.palette import default_test_colour, region_color
from lib_scene.splits import Split, SplitPlan


def reference_grey(d, plan, hit=True):
    """The issue's formula, one scalar at a time (independent of the vectorised code)."""
    if not hit or (plan.cutoff is not None and d >= plan.cutoff) or d > plan.end:
        return 0
    o = 0
    for k, s in enumerate(plan.splits):
        last = k == len(plan.splits) - 1
        if d < s.end or last:
            n = s.levels
            if n == 0:
                return 0
            if plan.curve == "inverse":
                t = (1 / s.start - 1 / d) / (1 / s.start - 1 / s.end)
            else:
                t = (d - s.start) / (s.end - s.start)
            t = min(max(t, 0.0), 1.0)
            return 255 - (o + min(n - 1, math.floor(t * n)))
        o += s.levels
    raise AssertionError


def plan5(curve="linear", cutoff=None):
    # the seed's mirror example: five splits with 90/4/60/90/12 levels
    b = [1.0, 1.6, 2.0, 3.0, 4.5, 9.0]
    lv = [90, 4, 60, 90, 12]
    return SplitPlan(tuple(Split(b[i], b[i + 1], lv[i]) for i in range(5)), curve=curve, cutoff=cutoff)


@pytest.mark.parametrize("curve", ["linear", "inverse"])
def test_each_split_gives_exactly_n_greys_monotone(curve):
    plan = plan5(curve)
    d = np.linspace(1.0, 9.0, 200_001, dtype=np.float64).astype(np.float32)
    g = quantize(d, None, plan)
    assert np.all(np.diff(g.astype(int)) <= 0)  # monotone: farther is never brighter
    for k, s in enumerate(plan.splits):
        inside = (d >= s.start) & ((d < s.end) if k < 4 else (d <= s.end))
        assert len(np.unique(g[inside])) == s.levels, k
    assert g[0] == 255 and len(np.unique(g)) == 256


@pytest.mark.parametrize("curve", ["linear", "inverse"])
def test_matches_the_formula_exactly(curve):
    plan = plan5(curve, cutoff=7.0)
    rng = np.random.default_rng(1)
    d = np.concatenate([rng.uniform(0.2, 12, 3000), np.array(plan.boundaries()), [7.0, 6.999, 9.0, 9.0001]])
    d = d.astype(np.float32)
    got = quantize(d, None, plan)
    want = [reference_grey(float(x), plan) for x in d.astype(np.float64)]
    assert got.tolist() == want


def test_blacks_cutoff_beyond_and_no_hit_and_zero_levels():
    plan = SplitPlan((Split(1, 2, 10), Split(2, 3, 0), Split(3, 4, 5)), cutoff=3.5)
    d = np.array([0.5, 1.0, 2.5, 3.2, 3.5, 3.9, 4.0, 4.1, 1.5], np.float32)
    hit = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0], bool)
    g = quantize(d, hit, plan)
    assert g[0] == 255 and g[1] == 255  # below the first start: the first split's nearest level
    assert g[2] == 0  # 0-level split
    assert g[3] == 255 - 10 - 1  # third split, second level (3.2 -> floor(0.2*5)=1)
    assert g[4] == g[5] == g[6] == 0  # at/past the cutoff
    assert g[7] == 0  # beyond the last end
    assert g[8] == 0  # no hit


def test_last_split_includes_its_end_and_full_256_reaches_grey_0():
    plan = SplitPlan.single(2.0, 4.0)
    g = quantize(np.array([2.0, 4.0, 3.9999], np.float32), None, plan)
    assert g.tolist() == [255, 0, 0]


def test_inverse_levels_are_even_in_disparity():
    plan = SplitPlan.single(1.0, 10.0, levels=9, curve="inverse")
    # the level boundaries are where 1/d crosses 1 - k * (1 - 0.1) / 9
    edges = 1.0 / (1.0 - np.arange(1, 9) * 0.9 / 9)
    g_before = quantize((edges * 0.9999).astype(np.float32), None, plan)
    g_after = quantize((edges * 1.0001).astype(np.float32), None, plan)
    assert (g_before.astype(int) - g_after.astype(int)).tolist() == [1] * 8


def test_output_is_canvas_sized_uint8_and_input_untouched():
    d = np.random.default_rng(0).uniform(1, 5, (37, 53)).astype(np.float32)
    d.flags.writeable = False
    g = quantize(d, None, SplitPlan.single(1, 5))
    assert g.shape == (37, 53) and g.dtype == np.uint8


def test_level_usage_counts_wasted_levels():
    d = np.array([1.0, 1.15, 3.0], np.float32)  # two levels of the first split, one of the last
    plan = SplitPlan((Split(1, 2, 10), Split(2, 3, 20), Split(3, 4, 6)))
    u = level_usage(d, None, plan)
    assert (u.allocated, u.used, u.wasted) == (36, 3, 33)
    assert u.per_split == ((10, 2), (20, 0), (6, 1))
    assert split_counts(d, None, plan).tolist() == [2, 0, 1]


def test_test_and_region_images():
    plan = SplitPlan(
        (Split(1, 2, 100, test="red", region=1), Split(2, 3, 100), Split(3, 4, 56, test="#00ff00"))
    )
    d = np.array([[1.5, 2.5, 3.5, 9.0]], np.float32)
    t = make_test_image(d, None, plan)
    assert t[0, 0].tolist() == [255, 0, 0] and t[0, 2].tolist() == [0, 255, 0]
    # a split without a colour gets its distinct default (split 1: default_test_colour(1)); past the end: black
    assert t[0, 1].tolist() == list(default_test_colour(1)) and t[0, 3].tolist() == [0, 0, 0]
    r = region_image(d, None, plan)
    assert r[0, 0].tolist() == list(region_color(1)) and r[0, 1:].tolist() == [[0, 0, 0]] * 3


def test_auto_plan_uses_all_levels_and_skips_empty_gaps():
    rng = np.random.default_rng(3)
    d = np.concatenate([rng.uniform(1.0, 1.5, 5000), rng.uniform(6.0, 8.0, 5000)]).astype(np.float32)
    hit = np.ones(d.shape, bool)
    plan = auto_plan(d, hit)
    assert plan.total_levels == 256 and plan.curve == "inverse"
    assert plan.start == pytest.approx(d.min()) and plan.end == pytest.approx(d.max())
    gaps = [s for s in plan.splits if s.label == "gap"]
    assert gaps and all(s.levels == 0 for s in gaps)
    assert split_counts(d, hit, plan)[[i for i, s in enumerate(plan.splits) if s.label == "gap"]].sum() == 0
    u = level_usage(d, hit, plan)
    assert u.wasted < 10  # levels go where pixels are


def test_suggestions_find_the_valley_and_object_ranges():
    from lib_scene.depth import object_depth_ranges, suggest_cuts

    rng = np.random.default_rng(5)
    near = rng.uniform(1.0, 2.0, 4000)
    far = rng.uniform(5.0, 6.0, 4000)
    d = np.concatenate([near, far]).astype(np.float32).reshape(80, 100)
    idx = np.concatenate([np.full(4000, 7.0), np.full(4000, 3.0)]).astype(np.float32).reshape(80, 100)
    hit = np.ones(d.shape, bool)
    sugg = suggest_cuts(d, hit, idx)
    valleys = [s.depth for s in sugg if s.reason == "valley"]
    assert valleys and any(2.0 < v < 5.0 for v in valleys)
    objs = object_depth_ranges(d, hit, idx)
    assert [o.index for o in objs] == [7, 3]  # nearest first
    assert 1.0 <= objs[0].near < objs[0].median < objs[0].far <= 2.0
    assert objs[1].coverage == 0.5
    near_cut = [s.depth for s in sugg if s.reason == "object-far" and s.index == 7]
    assert near_cut and 1.9 < near_cut[0] <= 2.0


def test_histogram_describe_reads_like_ddp():
    from lib_scene.depth import histogram

    d = np.array([[1.0, 1.5, 2.0, 1e10]], np.float32)
    h = histogram(d, d < 1e9, bins=2)
    text = h.describe()
    assert "   0    33.33%  [1, 1.5)" in text and "   1    66.67%  [1.5, 2]" in text
    assert "3 hit pixels, 1 no-hit pixels" in text


def test_quantised_once_for_the_same_read_only_canvas():
    """``plan`` asks for the depth unit and then the test image of the same canvas: one pass."""
    import gc

    from lib_scene import depth as D

    rng = np.random.default_rng(1)
    depth = rng.uniform(1.0, 9.0, (64, 48)).astype(np.float32)
    hit = rng.random((64, 48)) < 0.9
    plan = SplitPlan((Split(1.0, 5.0, 128, test="red"), Split(5.0, 9.0, 128)))
    fresh = D.Quantized.of(depth, hit, plan)  # writable arrays: never reused
    assert D.Quantized.of(depth, hit, plan) is not fresh
    depth.flags.writeable = hit.flags.writeable = False
    q = D.Quantized.of(depth, hit, plan)
    assert D.Quantized.of(depth, hit, SplitPlan.from_dict(plan.to_dict())) is q  # an equal plan
    assert np.array_equal(q.index, fresh.index) and np.array_equal(q.test_rgb(), fresh.test_rgb())
    other = SplitPlan((Split(1.0, 9.0, 256),))
    assert D.Quantized.of(depth, hit, other) is not q
    assert D.Quantized.of(depth, None, other) is not D.Quantized.of(depth, hit, other)
    del depth
    gc.collect()
    assert D._LAST == []  # the result goes with its canvas
