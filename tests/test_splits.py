"""Split plan operations, validation and presets."""

import json

import numpy as np
import pytest

from lib_scene.errors import PresetError, SplitError
from lib_scene.splits import Split, SplitPlan, largest_remainder, load_preset, save_preset


@pytest.fixture
def plan():
    return SplitPlan((Split(1.0, 2.0, 50), Split(2.0, 4.0, 100, label="desk")))


def test_add_cut_shares_levels_and_stays_contiguous(plan):
    p = plan.add_cut(3.0)
    assert p.boundaries() == [1.0, 2.0, 3.0, 4.0]
    assert [s.levels for s in p.splits] == [50, 50, 50] and p.splits[1].label == "desk"
    assert plan.boundaries() == [1.0, 2.0, 4.0]  # the original is untouched
    for bad in (1.0, 4.0, 0.5, 2.0, float("nan")):
        with pytest.raises(SplitError):
            plan.add_cut(bad)


def test_move_boundary_never_past_a_neighbour(plan):
    assert plan.move_boundary(1, 1.5).boundaries() == [1.0, 1.5, 4.0]
    assert plan.move_boundary(0, 0.2).start == 0.2 and plan.move_boundary(2, 9).end == 9
    with pytest.raises(SplitError, match="between its neighbours"):
        plan.move_boundary(1, 4.0)
    with pytest.raises(SplitError, match="between its neighbours"):
        plan.move_boundary(0, 2.5)
    with pytest.raises(SplitError, match="no boundary 3"):
        plan.move_boundary(3, 5)


def test_remove_and_merge(plan):
    p = plan.add_cut(3.0)
    r = p.remove(1)
    assert r.boundaries() == [1.0, 3.0, 4.0] and r.splits[0].levels == 100
    m = p.merge(1, 2)
    assert m.boundaries() == [1.0, 2.0, 4.0] and m.splits[1].levels == 100 and m.splits[1].label == "desk"
    with pytest.raises(SplitError, match="not neighbours"):
        p.merge(0, 2)
    with pytest.raises(SplitError, match="only split"):
        SplitPlan.single(1, 2).remove(0)
    with pytest.raises(SplitError, match="no split 7"):
        plan.remove(7)


def test_allocate_limits(plan):
    assert plan.allocate(0, 156).total_levels == 256
    with pytest.raises(SplitError, match="at most 156"):
        plan.allocate(0, 157)
    with pytest.raises(SplitError):
        plan.allocate(0, -1)


def test_flags(plan):
    p = plan.set_flag(0, "test", "cornflowerblue").set_flag(0, "region", "2").set_flag(1, "label", "")
    assert p.splits[0].test == "cornflowerblue" and p.splits[0].region == 2 and p.splits[1].label is None
    with pytest.raises(SplitError, match="not a CSS colour"):
        plan.set_flag(0, "test", "notacolour")
    with pytest.raises(SplitError, match="unknown flag"):
        plan.set_flag(0, "colour", "red")
    with pytest.raises(SplitError, match="whole number"):
        plan.set_flag(0, "region", "x")


def test_auto_allocate_even_and_proportional(plan):
    e = plan.auto_allocate("even")
    assert e.total_levels == 256 and [s.levels for s in e.splits] == [103, 153]
    p = plan.auto_allocate("proportional", counts=np.array([300, 100]))
    assert [s.levels for s in p.splits] == [50 + 80, 100 + 26]
    with pytest.raises(SplitError, match="hold no pixels"):
        plan.auto_allocate("proportional", counts=np.array([0, 0]))
    full = plan.allocate(1, 206)
    assert full.auto_allocate("even") is full


def test_largest_remainder_sums_exactly():
    rng = np.random.default_rng(0)
    for _ in range(50):
        w = rng.uniform(0, 1, rng.integers(1, 12))
        n = int(rng.integers(0, 300))
        assert largest_remainder(w, n).sum() == n


@pytest.mark.parametrize(
    "splits, msg",
    [
        ([], "at least one split"),
        ([Split(2, 1, 0)], "empty or reversed"),
        ([Split(1, 2, 0), Split(2.5, 3, 0)], "contiguous"),
        ([Split(1, 2, 200), Split(2, 3, 57)], "257 levels"),
        ([Split(1, 2, -1)], "whole number"),
        ([Split(1, 2, 1.5)], "whole number"),
    ],
)
def test_invalid_plans(splits, msg):
    with pytest.raises(SplitError, match=msg):
        SplitPlan(tuple(splits))


def test_inverse_curve_needs_positive_depth():
    with pytest.raises(SplitError, match="inverse"):
        SplitPlan.single(0.0, 2.0, curve="inverse")


def test_preset_round_trip_and_issue_format(tmp_path):
    text = {
        "version": 1,
        "cutoff": None,
        "curve": "linear",
        "splits": [
            {"start": 93.47, "end": 132.0, "levels": 90, "label": "A", "test": "red", "region": 0},
            {"start": 132.0, "end": 180.0, "levels": 4},
        ],
    }
    path = tmp_path / "mirror.json"
    path.write_text(json.dumps(text))
    plan = load_preset(str(path))
    assert plan.name == "mirror" and plan.splits[0] == Split(93.47, 132.0, 90, "A", "red", 0)
    assert plan.to_dict() == text
    out = tmp_path / "copy.json"
    save_preset(plan, str(out))
    assert load_preset(str(out)) == plan
    with pytest.raises(PresetError, match="already exists"):
        save_preset(plan, str(out))
    save_preset(plan.allocate(1, 10), str(out), overwrite=True)
    assert load_preset(str(out)).splits[1].levels == 10


@pytest.mark.parametrize(
    "content, msg",
    [
        ("[1, 2]", "JSON object"),
        ('{"version": 2, "splits": []}', "unsupported preset version 2"),
        ('{"splits": [{"start": 1, "end": 2, "levels": 3, "colour": "red"}]}', "unknown keys"),
        ('{"splits": [{"start": 1, "levels": 3}]}', "lacks 'end'"),
        ('{"splits": [{"start": 1, "end": 2, "levels": 300}]}', "300 levels"),
        ("{oops", "not valid JSON"),
    ],
)
def test_bad_presets_name_the_file(tmp_path, content, msg):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PresetError) as err:
        load_preset(str(path))
    assert "bad.json" in str(err.value) and msg in str(err.value)
