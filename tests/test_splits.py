"""Split plan operations, validation and presets."""

import json
import re

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


# --------------------------------------------------------------------------- edges and exact messages


def _raises(cls, text):
    """pytest.raises matching the whole message (``str(err)``), not a part of it."""
    return pytest.raises(cls, match="^" + re.escape(text) + "$")


def test_find_is_half_open_with_the_last_split_closed(plan):
    assert [plan.find(d) for d in (1.0, 1.999, 2.0, 3.9, 4.0)] == [0, 0, 1, 1, 1]
    for bad in (0.999, 4.001):
        with _raises(SplitError, f"depth {bad:g} is outside the splits [1, 4]"):
            plan.find(bad)
    with _raises(SplitError, "depth must be a number, got 'x'"):
        plan.find("x")
    with _raises(SplitError, "depth must be finite, got nan"):
        plan.find(float("nan"))


def test_add_cut_shares_levels_by_depth_and_keeps_the_splits_after_it(plan):
    p = plan.add_cut(2.5)
    assert [(s.start, s.end, s.levels, s.label) for s in p.splits] == [
        (1.0, 2.0, 50, None),
        (2.0, 2.5, 25, "desk"),
        (2.5, 4.0, 75, None),
    ]
    assert plan.add_cut(1.5).boundaries() == [1.0, 1.5, 2.0, 4.0]
    for bad in (1.0, 4.0):
        with _raises(SplitError, f"cut at {bad:g} must lie strictly inside [1, 4]"):
            plan.add_cut(bad)
    with _raises(SplitError, "there is already a boundary at 2"):
        plan.add_cut(2.0)
    with _raises(SplitError, "cut depth must be a number, got None"):
        plan.add_cut(None)


def test_move_boundary_messages(plan):
    for b, d in ((1, 1.0), (1, 0.5)):
        with _raises(
            SplitError, f"boundary {b} can move only between its neighbours (1, 4); {d:g} is outside"
        ):
            plan.move_boundary(b, d)
    with _raises(SplitError, "boundary depth must be a number, got None"):
        plan.move_boundary(1, None)


def test_remove_merges_into_the_neighbour_that_keeps_its_flags(plan):
    p = plan.add_cut(3.0).set_flag(0, "label", "near")  # labels: near, desk, None
    first = p.remove(0)  # split 0 goes into split 1, which keeps its own flags
    assert [(s.start, s.end, s.levels, s.label) for s in first.splits] == [
        (1.0, 3.0, 100, "desk"),
        (3.0, 4.0, 50, None),
    ]
    middle = p.remove(1)  # into the previous one
    assert [(s.start, s.end, s.levels, s.label) for s in middle.splits] == [
        (1.0, 3.0, 100, "near"),
        (3.0, 4.0, 50, None),
    ]
    assert p.merge(0, 1, keep=1).splits[0].label == "desk" and p.merge(0, 1).splits[0].label == "near"
    with _raises(SplitError, "cannot remove the only split"):
        SplitPlan.single(1, 2).remove(0)


def test_split_numbers(plan):
    assert plan.allocate(-2, 10).splits[0].levels == 10 and plan.allocate(-1, 10).splits[1].levels == 10
    for bad in (2, -3):
        with _raises(SplitError, f"there is no split {bad}; splits are numbered 0..1"):
            plan.allocate(bad, 1)
    for bad in (True, 1.0, "1"):
        with _raises(SplitError, f"split number must be a whole number, got {bad!r}"):
            plan.remove(bad)


def test_allocate_takes_whole_numbers_from_zero(plan):
    assert plan.allocate(0, 0).splits[0].levels == 0
    assert plan.allocate(0, np.int64(3)).splits[0].levels == 3
    for bad in (-1, True, 2.0):
        with _raises(SplitError, f"levels must be a whole number >= 0, got {bad!r}"):
            plan.allocate(0, bad)


def test_flags_set_and_clear(plan):
    p = plan.set_flag(0, "region", 3).set_flag(0, "test", "red").set_flag(0, "label", 5)
    assert (p.splits[0].region, p.splits[0].test, p.splits[0].label) == (3, "red", "5")
    for empty in ("", None):
        c = p.set_flag(0, "region", empty).set_flag(0, "test", empty).set_flag(0, "label", empty)
        assert (c.splits[0].region, c.splits[0].test, c.splits[0].label) == (None, None, None)
    with _raises(SplitError, "unknown flag 'colour'; flags are label, test, region"):
        plan.set_flag(0, "colour", "red")
    with _raises(SplitError, "region must be a whole number, got 'x'"):
        plan.set_flag(0, "region", "x")
    with _raises(SplitError, "region must be a whole number, got [1]"):
        plan.set_flag(0, "region", [1])


def test_auto_allocate_options_and_messages(plan):
    assert [s.levels for s in plan.auto_allocate(counts=[300, 100]).splits] == [
        130,
        126,
    ]  # proportional by default
    assert [s.levels for s in plan.auto_allocate("even", only=[1]).splits] == [50, 206]
    assert [s.levels for s in plan.auto_allocate("proportional", [1, 0], only=[-1, 0]).splits] == [156, 100]
    one_left = plan.allocate(1, 205)
    assert one_left.auto_allocate("even").total_levels == 256
    with _raises(SplitError, "no splits to allocate to"):
        plan.auto_allocate("even", only=[])
    with _raises(SplitError, "proportional allocation needs the depth canvas (pixel counts per split)"):
        plan.auto_allocate("proportional")
    with _raises(SplitError, "need 2 pixel counts, got (3,)"):
        plan.auto_allocate("proportional", [1, 2, 3])
    with _raises(SplitError, "the chosen splits hold no pixels; use even allocation"):
        plan.auto_allocate("proportional", [0, 5], only=[0])
    with _raises(SplitError, "unknown allocation method 'x'; use 'proportional' or 'even'"):
        plan.auto_allocate("x")


def test_largest_remainder_exact_shares():
    assert largest_remainder([3.1, 0.9], 4).tolist() == [
        3,
        1,
    ]  # the larger remainder wins, not the larger share
    assert largest_remainder([1, 1, 1], 2).tolist() == [1, 1, 0]  # ties go to the earlier index
    assert largest_remainder([1, 3], 1).tolist() == [0, 1]
    for total, weights in ((0, [1, 2]), (5, [])):
        got = largest_remainder(weights, total)
        assert got.dtype == np.int64 and got.tolist() == [0] * len(weights)
    assert largest_remainder([0.2, 0.8], 10).dtype == np.int64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"splits": ()}, "a split plan needs at least one split"),
        ({"curve": "cubic"}, "curve must be one of linear, inverse, got 'cubic'"),
        ({"splits": (Split(1, 1, 0),)}, "split 0 is empty or reversed: [1, 1)"),
        ({"splits": (Split("a", 2, 0),)}, "split 0 start must be a number, got 'a'"),
        ({"splits": (Split(1, float("inf"), 0),)}, "split 0 end must be finite, got inf"),
        (
            {"splits": (Split(1, 2), Split(2, 3), Split(3.5, 4))},
            "splits must be contiguous: split 1 ends at 3 but split 2 starts at 3.5",
        ),
        ({"splits": (Split(1, 2, region=-1),)}, "split 0 region must be a whole number >= 0, got -1"),
        ({"splits": (Split(1, 2, region=True),)}, "split 0 region must be a whole number >= 0, got True"),
        ({"splits": (Split(1, 2, region="1"),)}, "split 0 region must be a whole number >= 0, got '1'"),
        (
            {"splits": (Split(0, 2),), "curve": "inverse"},
            "the inverse curve needs depths > 0 (the first split starts at or below 0)",
        ),
        ({"cutoff": float("nan")}, "cutoff must be finite, got nan"),
    ],
)
def test_invalid_plans_say_exactly_what_is_wrong(kwargs, message):
    args = {"splits": (Split(1, 2, 10),), **kwargs}
    with _raises(SplitError, message):
        SplitPlan(**args)


def test_plans_accept_numpy_numbers_and_keep_splits_as_a_tuple():
    p = SplitPlan([Split(1, 2, np.int64(3), region=np.int64(1))])
    assert isinstance(p.splits, tuple) and p.splits[0].region == 1
    assert p == SplitPlan((Split(1, 2, 3, region=1),))


def test_single_widens_an_empty_range_and_passes_options():
    assert SplitPlan.single(5.0, 5.0).end == 5.0 + 5e-6
    assert SplitPlan.single(-3.0, -3.0).end == -3.0 + 3e-6
    assert SplitPlan.single(0.0, 0.0).end == 1e-6
    assert SplitPlan.single(0.0, -1.0).end == 1e-6
    assert SplitPlan.single(1.0, 2.0).end == 2.0
    p = SplitPlan.single(1.0, 2.0, 7, cutoff=1.5, curve="inverse", name="n")
    assert (p.splits[0].levels, p.cutoff, p.curve, p.name) == (7, 1.5, "inverse", "n")


def test_set_cutoff_and_curve(plan):
    assert plan.set_cutoff(3).cutoff == 3.0 and plan.set_cutoff(3).set_cutoff(None).cutoff is None
    with _raises(SplitError, "cutoff must be a number, got 'x'"):
        plan.set_cutoff("x")
    assert plan.set_curve("inverse").curve == "inverse"
    with _raises(SplitError, "curve must be one of linear, inverse, got 'log'"):
        plan.set_curve("log")


def test_describe_table():
    p = SplitPlan(
        (Split(1.0, 2.0, 50, test="red", region=0), Split(2.0, 4.0, 100, label="desk")), 3.5, "inverse"
    )
    assert p.describe(np.array([30, 70]), 100).splitlines() == [
        "  #       start         end  levels   pixels  flags",
        "  0           1           2      50   30.00%  test=red region=0",
        "  1           2           4     100   70.00%  label=desk",
        "levels: 150/256 allocated, cutoff 3.5, curve inverse",
    ]
    assert SplitPlan.single(0.5, 120.25).describe([5]).splitlines() == [
        "  #       start         end  levels   pixels  flags",
        "  0         0.5       120.2     256           ",
        "levels: 256/256 allocated, cutoff none, curve linear",
    ]
    assert "%" not in SplitPlan.single(1.0, 2.0).describe(total=100)  # no counts: no shares


def test_preset_fields_and_format(tmp_path):
    data = {
        "version": 1,
        "name": "kept",
        "cutoff": 150,
        "curve": "inverse",
        "splits": [{"start": 1, "end": 2, "levels": 3.0}, {"start": 2, "end": 4}],
    }
    p = SplitPlan.from_dict(data)
    assert (p.cutoff, p.curve, p.name) == (150.0, "inverse", "kept")
    assert [(s.levels, type(s.levels)) for s in p.splits] == [(3, int), (0, int)]
    assert p.splits[1].to_dict() == {"start": 2, "end": 4, "levels": 0}
    assert Split(1, 2, 0, region=0).to_dict() == {"start": 1, "end": 2, "levels": 0, "region": 0}
    assert (
        p.to_json() == json.dumps(p.to_dict(), indent=2) and p.to_json().splitlines()[1] == '  "version": 1,'
    )
    path = tmp_path / "p.json"
    assert save_preset(p, path) == str(path) and path.read_text(encoding="utf-8") == p.to_json() + "\n"
    with _raises(PresetError, f"{path}: preset already exists; choose another name or allow overwriting"):
        save_preset(p, path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1], "a split preset must be a JSON object"),
        ({"splits": {}}, "'splits' must be a non-empty list"),
        ({"splits": []}, "'splits' must be a non-empty list"),
        ({"splits": [1]}, "split 0 must be an object"),
        ({"splits": [{"start": 1, "end": 2}, {"start": 2}]}, "split 1 lacks 'end'"),
        ({"splits": [{"start": "x", "end": 2}]}, "split 0 start must be a number, got 'x'"),
        ({"splits": [{"start": 1, "end": None}]}, "split 0 end must be a number, got None"),
        (
            {"splits": [{"start": 1, "end": 2, "levels": 2.5}]},
            "split 0 levels must be a whole number >= 0, got 2.5",
        ),
        ({"splits": [{"start": 1, "end": 2}], "cutoff": "far"}, "cutoff must be a number, got 'far'"),
    ],
)
def test_bad_preset_data_names_the_source(data, message):
    with _raises(PresetError, f"where.json: {message}"):
        SplitPlan.from_dict(data, source="where.json")


def test_preset_file_errors(tmp_path):
    missing = tmp_path / "missing.json"
    with _raises(PresetError, f"{missing}: no such preset file"):
        load_preset(missing)
    with pytest.raises(PresetError, match=r"^.*: preset file is a folder; give a JSON file$"):
        load_preset(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "splits": oops\n}', encoding="utf-8")
    with pytest.raises(
        PresetError, match=r"bad\.json: preset file is not valid JSON \(line 2 column 13: Expecting value\)$"
    ):
        load_preset(bad)
