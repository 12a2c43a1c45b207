"""The editor state model: immutable steps, the split table round trip, presets by name, paths."""

import os

import numpy as np
import pytest

from lib_scene.canvas import load_multilayer
from lib_scene.errors import PresetError, SceneImportError, SplitError
from lib_scene.session import (
    EditorState,
    camera_summary,
    list_presets,
    load_named,
    plan_from_rows,
    preset_path,
    save_named,
    split_rows,
    zero_levels,
)
from lib_scene.splits import Split, SplitPlan

PLAN = SplitPlan((Split(1.0, 4.0, 128), Split(4.0, 10.0, 128)))


def _state():
    return EditorState().loaded(["Cam0", "Cam1"], {"Cam0": PLAN, "Cam1": PLAN})


def test_steps_are_immutable_and_undoable():
    s0 = _state()
    s1 = s0.edit("add_cut", 2.5)
    assert s0.plan == PLAN and len(s1.plan.splits) == 3
    assert s1.selected == 1  # the new split that starts at the cut
    s2 = s1.edit("allocate", 0, 10)
    assert s2.plan.splits[0].levels == 10 and s1.plan.splits[0].levels == 64
    s3 = s2.undo()
    assert s3.plan == s1.plan
    assert s3.undo().plan == PLAN
    with pytest.raises(SplitError, match="nothing to undo"):
        s3.undo().undo()
    with pytest.raises(SplitError, match="unknown edit"):
        s0.edit("to_json")
    # an invalid step raises and leaves the state as it was
    with pytest.raises(SplitError):
        s1.edit("allocate", 0, 300)
    assert s1.plan.splits[0].levels != 300


def test_cameras_keep_their_own_plans_until_applied_to_all():
    s = _state().edit("add_cut", 2.0)
    assert len(s.plans["Cam1"].splits) == 2
    s = s.select_camera("Cam1")
    assert s.current == "Cam1" and s.history == ()
    s = s.select_camera("Cam0").apply_to_all()
    assert s.plans["Cam0"] == s.plans["Cam1"] and len(s.plans["Cam1"].splits) == 3
    with pytest.raises(SceneImportError, match="no camera 'Nope'"):
        s.select_camera("Nope")
    with pytest.raises(SceneImportError, match="load a scene first"):
        EditorState().edit("add_cut", 1.0)


def test_table_round_trip_and_edits():
    plan = PLAN.add_cut(2.0).set_flag(0, "label", "A")
    rows = split_rows(plan, counts=np.array([5, 5, 10]), hits=20)
    assert rows[0][:4] == [0, 1.0, 2.0, plan.splits[0].levels] and rows[0][5] == 25.0 and rows[0][6] == "A"
    assert plan_from_rows(plan, rows) == plan
    # levels moved between splits in one edit (each alone would exceed 256), flags, a moved end
    rows = [list(r) for r in rows]
    rows[0][3], rows[1][3], rows[2][3] = 200, 50, 6
    rows[1][2] = 3.5  # end of row 1 = boundary 2
    rows[2][8] = "2"
    rows[1][7] = "red"
    new = plan_from_rows(plan, rows)
    assert [s.levels for s in new.splits] == [200, 50, 6]
    assert new.boundaries() == [1.0, 2.0, 3.5, 10.0]
    assert new.splits[2].region == 2 and new.splits[1].test == "red"
    # a changed start of a later row moves that boundary when the neighbour's end was left alone
    rows = [list(r) for r in split_rows(plan)]
    rows[2][1] = 5.0
    assert plan_from_rows(plan, rows).boundaries() == [1.0, 2.0, 5.0, 10.0]
    # a table sorted by a column is read in split order again
    rows = [list(r) for r in split_rows(plan)][::-1]
    assert plan_from_rows(plan, rows) == plan


def test_table_errors_name_the_row():
    rows = [list(r) for r in split_rows(PLAN)]
    bad = [list(r) for r in rows]
    bad[1][3] = "many"
    with pytest.raises(SplitError, match="row 1 levels"):
        plan_from_rows(PLAN, bad)
    bad = [list(r) for r in rows]
    bad[0][3] = 200
    bad[1][3] = 100
    with pytest.raises(SplitError, match="300 levels"):
        plan_from_rows(PLAN, bad)
    with pytest.raises(SplitError, match="add or remove splits with the buttons"):
        plan_from_rows(PLAN, rows[:1])
    bad = [list(r) for r in rows]
    bad[0][2] = 0.5
    with pytest.raises(SplitError):
        plan_from_rows(PLAN, bad)


def test_zero_levels():
    z = zero_levels(PLAN)
    assert z.total_levels == 0 and z.boundaries() == PLAN.boundaries()


def test_presets_by_name_never_overwrite_silently(tmp_path):
    folder = str(tmp_path / "presets")
    assert list_presets(folder) == []
    path = save_named(PLAN, folder, "mirror scene")
    assert path.endswith("mirror scene.json") and list_presets(folder) == ["mirror scene"]
    with pytest.raises(PresetError, match="already exists"):
        save_named(PLAN.add_cut(2.0), folder, "mirror scene")
    assert load_named(folder, "mirror scene") == PLAN
    save_named(PLAN.add_cut(2.0), folder, "mirror scene", overwrite=True)
    assert len(load_named(folder, "mirror scene.json").splits) == 3
    for bad in ("../escape", "a/b", "", ".hidden", "x" * 80):
        with pytest.raises(PresetError, match="not allowed"):
            preset_path(folder, bad)
    with open(os.path.join(folder, "broken.json"), "w") as fh:
        fh.write("{nope")
    with pytest.raises(PresetError, match="broken.json: preset file is not valid JSON"):
        load_named(folder, "broken")


def test_camera_summary(blender5):
    cs = load_multilayer(blender5)
    s = camera_summary(cs)
    assert s["camera"] == "Cam0" and s["size"] == "64x48" and s["layout"] == "blender5"
    assert "depth" in s["passes"] and "object index" in s["passes"]
    assert s["depth"].startswith("3 .. 8") and s["no-hit"] == "8.3%"
