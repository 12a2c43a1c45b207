"""Preview-resolution rendering: exact whole-canvas statistics, sampling, plots, tone map."""

import numpy as np
import pytest

from lib_scene.canvas import load_cameras, load_multilayer
from lib_scene.depth import auto_plan, level_usage, quantize, split_counts
from lib_scene.preview import (
    DepthIndex,
    area_resize,
    histogram_image,
    overlay,
    prepare,
    preview_grid,
    render_depth,
    tone_map,
)
from lib_scene.splits import Split, SplitPlan


def _random_plans(rng, lo, hi, count=40):
    for trial in range(count):
        cuts = np.sort(rng.uniform(lo, hi, 4))
        b = [lo * rng.uniform(0.8, 1.0), *cuts, hi * rng.uniform(1.0, 1.1)]
        if trial % 5 == 0:  # a plan ending inside the data: the far part is black
            b[-1] = float(cuts[-1] + (hi - cuts[-1]) / 2)
        levels = [int(x) for x in rng.integers(0, 52, 5)]
        if trial % 4 == 1:
            levels[2] = 0
        cutoff = float(rng.uniform(lo, hi)) if trial % 3 == 0 else None
        curve = "inverse" if trial % 2 else "linear"
        yield SplitPlan(
            tuple(Split(float(b[i]), float(b[i + 1]), levels[i]) for i in range(5)), cutoff, curve
        )


def test_depth_index_counts_and_usage_equal_full_pass(blender5):
    cs = load_multilayer(blender5)
    idx = DepthIndex.build(cs.depth, cs.hit)
    d64 = cs.depth.astype(np.float64)  # float64 comparisons, as DepthIndex documents
    lo, hi = cs.depth_range()
    rng = np.random.default_rng(1)
    for plan in _random_plans(rng, lo, hi):
        assert (idx.split_counts(plan) == split_counts(d64, cs.hit, plan)).all(), plan
        assert idx.usage(plan) == level_usage(d64, cs.hit, plan), plan
    # the boundaries exactly at pixel depths (the wall at 8.0, the box at 3.0)
    plan = SplitPlan((Split(2.0, 3.0, 10), Split(3.0, 8.0, 200), Split(8.0, 9.0, 46)))
    assert (idx.split_counts(plan) == split_counts(d64, cs.hit, plan)).all()
    assert idx.usage(plan) == level_usage(d64, cs.hit, plan)


def test_depth_index_on_smooth_random_depth():
    rng = np.random.default_rng(7)
    depth = rng.uniform(1, 10, (300, 400)).astype(np.float32)
    depth[:40] = np.float32(5.0)  # a flat wall: many equal depths on a threshold
    hit = rng.random(depth.shape) > 0.2
    idx = DepthIndex.build(depth, hit)
    d64 = depth.astype(np.float64)
    for plan in _random_plans(rng, 1.0, 10.0, 60):
        assert idx.usage(plan) == level_usage(d64, hit, plan)
        assert (idx.split_counts(plan) == split_counts(d64, hit, plan)).all()
    plan = SplitPlan((Split(1.0, 5.0, 128), Split(5.0, 10.0, 128)))
    assert idx.count_lt(5.0) + int((depth[hit] >= 5.0).sum()) == idx.hits
    assert idx.histogram(1.0, 10.0, 9).sum() == idx.hits
    assert idx.usage(plan).used == level_usage(d64, hit, plan).used


def test_preview_grid_is_nearest_and_keeps_aspect():
    g = preview_grid(4096, 2048, 1024)
    assert (g.height, g.width) == (1024, 512)
    a = np.arange(4096 * 2048, dtype=np.int64).reshape(4096, 2048)
    s = g.sample(a)
    assert s.shape == (1024, 512)
    # every preview pixel is one canvas pixel's exact value
    ys, xs = np.divmod(s, 2048)
    assert (np.abs(ys - (np.arange(1024)[:, None] * 4 + 2)) <= 1).all()
    assert (np.abs(xs - (np.arange(512)[None, :] * 4 + 2)) <= 1).all()
    small = preview_grid(48, 64, 1024)
    assert (small.height, small.width) == (48, 64)
    assert small.to_full(10.7, 3.2) == (10, 3)


def test_area_resize_averages_and_tone_map_is_srgb():
    img = np.zeros((4, 4, 3), np.float32)
    img[:2, :2] = 1.0
    r = area_resize(img, 2, 2)
    assert r.shape == (2, 2, 3)
    assert r[0, 0, 0] == pytest.approx(1.0) and r[1, 1, 0] == pytest.approx(0.0)
    t = tone_map(np.array([[[0.0, 0.18, 1.0, 1.0], [2.0, np.nan, -1.0, 0.5]]], np.float32))
    assert t.shape == (1, 2, 3) and t.dtype == np.uint8
    assert t[0, 0].tolist() == [0, 118, 255]  # sRGB(0.18) = 0.461 -> 118
    assert t[0, 1].tolist() == [255, 0, 0]
    assert tone_map(np.full((1, 1, 3), 0.5, np.float32), exposure=1.0)[0, 0, 0] == 255


def test_overlay_paints_regions_only():
    base = np.full((2, 2, 3), 100, np.uint8)
    mask = np.zeros((2, 2, 3), np.uint8)
    mask[0, 0] = (128, 64, 64)
    out = overlay(base, mask, alpha=0.5)
    assert out[0, 0].tolist() == [114, 82, 82]
    assert out[1, 1].tolist() == [60, 60, 60]  # unassigned: darkened base


@pytest.mark.parametrize("alpha", [0.55, 0.5, 0.3])
def test_overlay_table_gives_the_float32_blend_bytes(alpha):
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (64, 80, 3)).astype(np.uint8)
    mask = rng.integers(0, 256, (64, 80, 3)).astype(np.uint8)
    mask[rng.random((64, 80)) < 0.4] = 0  # unassigned pixels
    mask[:4, :, 1:] = 0  # painted with some channels 0
    b, m = base.astype(np.float32), mask.astype(np.float32)
    want = np.where(mask.any(axis=2, keepdims=True), b * (1.0 - alpha) + m * alpha, b * 0.6)
    want = np.clip(want + 0.5, 0, 255).astype(np.uint8)
    assert np.array_equal(overlay(base, mask, alpha=alpha), want)
    assert np.array_equal(overlay(base.astype(np.float32), mask, alpha=alpha), want)  # the float path


def test_histogram_image_draws_boundaries_and_cutoff(blender5):
    cs = load_multilayer(blender5)
    idx = DepthIndex.build(cs.depth, cs.hit)
    plan = SplitPlan((Split(2.5, 4.5, 100, test="red"), Split(4.5, 8.5, 156)), cutoff=7.0)
    img, layout = histogram_image(idx, plan, width=600, height=200)
    assert img.shape == (200, 600, 3)
    x = int(round(layout.x_at_depth(4.5)))
    assert any(tuple(img[100, x + k]) == (250, 204, 21) for k in (-1, 0, 1))  # the boundary line
    xc = int(round(layout.x_at_depth(7.0)))
    assert any(tuple(img[100, xc + k]) == (239, 68, 68) for k in (-1, 0, 1))  # the cutoff
    # the red test colour tints the first split's span (away from bars and lines)
    xr = int(round(layout.x_at_depth(3.5)))
    assert img[60, xr, 0] > img[60, xr, 1] + 40
    assert layout.depth_at_x(x) == pytest.approx(4.5, abs=(layout.hi - layout.lo) / 500)
    assert layout.depth_at_x(0) is None


def test_render_depth_matches_full_quantisation_at_sampled_pixels(tmp_path):
    from scenes import write_blender5

    path = write_blender5(str(tmp_path / "Big.exr"), width=1500, height=900)
    cs = load_cameras([path])[0]
    pv = prepare(cs, long_side=1024)
    assert pv.shape == (614, 1024)
    plan = auto_plan(cs.depth, cs.hit).set_flag(0, "test", "lime")
    r = render_depth(pv, plan)
    full = quantize(cs.depth, cs.hit, plan)
    assert (r.depth == pv.grid.sample(full)).all()
    assert r.test.shape == (614, 1024, 3)
    assert (r.counts == split_counts(cs.depth.astype(np.float64), cs.hit, plan)).all()
    assert r.usage == level_usage(cs.depth.astype(np.float64), cs.hit, plan)
    # click -> depth of the canvas pixel under it
    y, x = np.argwhere(pv.hit)[len(np.argwhere(pv.hit)) // 2]
    fx, fy = pv.grid.to_full(x, y)
    assert pv.depth_at(x, y) == float(cs.depth[fy, fx])
    y0, x0 = np.argwhere(~pv.hit)[0]
    assert pv.depth_at(x0, y0) is None
    assert pv.beauty.shape == (614, 1024, 3) and pv.beauty.dtype == np.uint8
