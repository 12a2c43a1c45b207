"""Prompt travel and variations, the pure part: keyframes, positions, weights, the random walk, and
the plans request.resolve makes of frames x keyframes x variations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lib_scene.animation import camera_frames, out_stem
from lib_scene.errors import ParamsError, PlanError
from lib_scene.params import PlanParams
from lib_scene.prompt import count_sections
from lib_scene.request import HostFacts, Scene, parse_params, resolve
from lib_scene.travel import (
    Travel,
    Variations,
    check_chunk_counts,
    linear_weights,
    slerp,
    slerp_weights,
    walk_offset,
)

A, B = "a cosy wooden room at dusk", "a cold steel room at night"
TRAVEL = {
    "keyframes": [{"frame": 0, "base_prompt": A}, {"frame": 2, "base_prompt": B}],
    "interpolation": "slerp",
}


def test_positions_are_exact_at_keyframes_and_monotone_between():
    tr = Travel.from_dict({"keyframes": [{"frame": 24}, {"frame": 0}, {"frame": 10}]})
    assert tr.frames == [0, 10, 24]  # sorted by frame
    assert tr.position(0) == (0, 0, 0.0) and tr.position(10) == (1, 1, 0.0) and tr.position(24) == (2, 2, 0.0)
    assert tr.position(5) == (0, 1, 0.5) and tr.position(17) == (1, 2, 0.5)
    assert tr.position(-3) == (0, 0, 0.0) and tr.position(30) == (2, 2, 0.0)  # clamped
    ts = [tr.position(f)[2] for f in range(0, 10)]
    assert ts == sorted(ts) and len(set(ts)) == 10


@pytest.mark.parametrize("cos", [1.0, 0.999999999, 0.9, 0.3, 0.0])
def test_weights_exact_at_the_ends_and_monotone_between(cos):
    """Monotone for angles up to 90 degrees (text-embedding chunks share BOS/padding: cos >> 0); beyond,
    slerp's weights overshoot 1 by design."""
    assert slerp_weights(0.0, cos) == (1.0, 0.0) and slerp_weights(1.0, cos) == (0.0, 1.0)
    assert linear_weights(0.0) == (1.0, 0.0) and linear_weights(1.0) == (0.0, 1.0)
    ts = np.linspace(0, 1, 41)
    wa = [slerp_weights(float(t), cos)[0] for t in ts]
    wb = [slerp_weights(float(t), cos)[1] for t in ts]
    assert all(x > y for x, y in zip(wa, wa[1:], strict=False)) and all(
        x < y for x, y in zip(wb, wb[1:], strict=False)
    )


def test_slerp_keeps_the_norm_of_unit_vectors_and_linear_does_not():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=77 * 8), rng.normal(size=77 * 8)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    for t in (0.25, 0.5, 0.75):
        assert math.isclose(float(np.linalg.norm(slerp(a, b, t))), 1.0, rel_tol=1e-9)
    assert np.array_equal(slerp(a, b, 0.0), a) and np.array_equal(slerp(a, b, 1.0), b)
    wa, wb = linear_weights(0.5)
    assert float(np.linalg.norm(wa * a + wb * b)) < 0.9  # nearly orthogonal: linear shrinks


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ({"keyframes": [{"frame": 0}]}, "at least two"),
        ({"keyframes": [{"frame": 0}, {"frame": 0}]}, "two keyframes at frame 0"),
        ({"keyframes": [{"frame": 0}, {"frame": 3, "colour": 1}]}, "unknown keys"),
        ({"keyframes": [{"frame": 0}, {"frame": 1.5}]}, "whole number"),
        ({"keyframes": [{"frame": 0}, {"frame": 3, "descriptions": {"x": "a"}}]}, "pass indices"),
        ({"keyframes": [{"frame": 0}, {"frame": 3}], "interpolation": "cubic"}, "slerp, linear"),
    ],
)
def test_keyframe_validation(bad, needle):
    with pytest.raises(ParamsError, match=needle):
        PlanParams.from_dict({"travel": bad})


def test_chunk_counts_must_match_naming_the_keyframe():
    tr = Travel.from_dict({"keyframes": [{"frame": 0}, {"frame": 5}, {"frame": 9}]})
    check_chunk_counts([3, 3, 3], tr)
    with pytest.raises(PlanError, match=r"keyframe 2 \(frame 9\) gives 4 .*keyframe 0 \(frame 0\) gives 3"):
        check_chunk_counts([3, 3, 4], tr)


def test_variations_validation():
    assert Variations.from_dict({"count": 3}).indices == [0, 1, 2]
    assert Variations.from_dict({"count": 3, "index": 2}).indices == [2]
    for bad in ({"count": 0}, {"count": 3, "index": 3}, {"sigma": -1}, {"count": 2, "seed": 1}):
        with pytest.raises(ParamsError):
            PlanParams.from_dict({"variations": bad})


def test_the_random_walk_is_pulled_back_to_y0_with_steps_of_sigma():
    sigma, shape, seed = 0.02, (77 * 2, 768), 1234
    assert not walk_offset(shape, 0, sigma, seed).any()  # variation 0 is the plain conditioning
    d = [walk_offset(shape, k, sigma, seed) for k in range(1, 9)]
    # deterministic and the same walk in every run or task
    assert np.array_equal(d[3], walk_offset(shape, 4, sigma, seed))
    assert not np.array_equal(d[3], walk_offset(shape, 4, sigma, seed + 1))
    # the recurrence d[k] = 0.5 d[k-1] + 0.5 eps_k with eps ~ N(0, sigma^2): eps recovered from it
    eps = [2 * d[0]] + [2 * (d[k] - 0.5 * d[k - 1]) for k in range(1, len(d))]
    for e in eps:
        assert abs(float(e.mean())) < 3 * sigma / math.sqrt(e.size)
        assert math.isclose(float(e.std()), sigma, rel_tol=0.02)
    # pulled back: the offset stays bounded near the stationary spread sigma/sqrt(3), mean ~ 0 (y0)
    late = np.stack(d[4:])
    assert abs(float(late.mean())) < 1e-4
    assert math.isclose(float(late.std()), sigma / math.sqrt(3), rel_tol=0.05)


def test_camera_frames():
    p = PlanParams()
    assert camera_frames([], p) == [None]
    assert camera_frames([], p.replace(frames=3)) == [0, 1, 2]
    assert camera_frames([], p.replace(frames="2-4")) == [2, 3, 4]
    assert camera_frames([], p.replace(travel=TRAVEL)) == [0, 1, 2]
    assert camera_frames([1, 2, 3, 4], p.replace(frames="2-3")) == [2, 3]
    assert camera_frames([1, 2, 3, 4], p.replace(frames=2)) == [1, 2]
    with pytest.raises(ParamsError, match="needs an end"):
        camera_frames([], p.replace(frames="2-"))


def _plans(**params):
    facts = HostFacts()
    return resolve(
        Scene("samples/room"), parse_params({"camera": "Cam0", "long_side": 64, **params}, facts), facts
    )


def test_travel_plans_one_seed_keyframe_prompts_and_positions():
    plans = _plans(frames=3, travel=TRAVEL)
    assert [out_stem(p) for p in plans] == ["Cam0.0000", "Cam0.0001", "Cam0.0002"]
    assert len({p.seed for p in plans}) == 1
    plain_a = _plans(base_prompt=A, seed=plans[0].seed)[0]
    plain_b = _plans(base_prompt=B, seed=plans[0].seed)[0]
    # a keyframe frame is a plain generation of its prompt: same prompt, nothing to interpolate
    assert plans[0].prompt == plain_a.prompt and "to" not in plans[0].animation["travel"]
    assert plans[2].prompt == plain_b.prompt and "to" not in plans[2].animation["travel"]
    mid = plans[1].animation["travel"]
    assert (
        plans[1].prompt == plain_a.prompt and mid["position"] == 0.5 and mid["to"]["prompt"] == plain_b.prompt
    )
    assert plans[1].infotext["Scene Import travel"].startswith("0.5 from keyframe 0 (frame 0) to keyframe 1")
    assert count_sections(plain_a.prompt) == count_sections(plain_b.prompt) > 1


def test_keyframe_descriptions_change_only_their_region():
    travel = {"keyframes": [{"frame": 0}, {"frame": 1, "descriptions": {"3": "a steel chair"}}]}
    p0, p1 = _plans(travel=travel)
    assert "a steel chair" in p1.prompt and "a steel chair" not in p0.prompt
    assert "a simple wooden chair" in p0.prompt and "a simple wooden chair" not in p1.prompt
    assert p0.prompt.replace("a simple wooden chair", "a steel chair") == p1.prompt


def test_a_keyframe_with_other_sections_is_refused_by_name():
    travel = {"keyframes": [{"frame": 0}, {"frame": 4, "prompt": "just one section"}]}
    with pytest.raises(PlanError, match=r"keyframe 1 \(frame 4\)"):
        _plans(travel=travel)


def test_variation_plans():
    plans = _plans(variations={"count": 3, "sigma": 0.02}, seed=7)
    assert [out_stem(p) for p in plans] == ["Cam0.v00", "Cam0.v01", "Cam0.v02"]
    assert {p.seed for p in plans} == {7} and len({p.prompt for p in plans}) == 1
    assert [p.animation["variation"]["index"] for p in plans] == [0, 1, 2]
    assert plans[1].infotext["Scene Import variation"] == "1 of 3, sigma 0.02"
    (one,) = _plans(variations={"count": 3, "index": 2}, seed=7)
    assert out_stem(one) == "Cam0.v02"
