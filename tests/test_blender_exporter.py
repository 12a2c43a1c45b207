"""The Blender exporter: its pure helpers always; a real bpy render when a bpy venv is given.

Set SCENE_IMPORT_BPY_PYTHON to a Python that has ``bpy`` 5.0.1 (tools/test.sh makes one) to
render the sample room at a small size with the real exporter and read it back with lib_scene.
"""

import importlib.util
import json
import os
import subprocess

import numpy as np
import pytest
from conftest import ROOT

from lib_scene.canvas import load_cameras

EXPORTER = os.path.join(ROOT, "tools", "blender", "scene_import_exporter.py")


@pytest.fixture(scope="module")
def exporter():
    spec = importlib.util.spec_from_file_location("scene_import_exporter", EXPORTER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # bpy is absent here: the pure helpers still import
    return mod


def test_pass_indices_by_description(exporter):
    got = exporter.assign_pass_indices(
        {"Chair_B": "a chair", "Chair_A": " a  chair ", "Table": "a table", "Lamp": "", "Wall": None}
    )
    assert got == {"Chair_B": 1, "Chair_A": 1, "Table": 2, "Lamp": 0, "Wall": 0}
    # stable whatever order objects come in
    assert exporter.assign_pass_indices(dict(reversed(list(got.items())))) == exporter.assign_pass_indices(
        got
    )


def test_sidecar_builder_writes_the_interchange_format(exporter):
    side = exporter.build_sidecar(
        "Cam0",
        np.eye(4).tolist(),
        35.0,
        36.0,
        "AUTO",
        (0.1, 100.0),
        (384, 256),
        {"Sofa": {"pass_index": 3, "Description": "a grey fabric sofa", "location": (1, 2, 3)}},
        view_layer="ViewLayer",
    )
    assert side == {
        "camera": "Cam0",
        "matrix_world": np.eye(4).tolist(),
        "lens_mm": 35.0,
        "sensor_width_mm": 36.0,
        "sensor_fit": "AUTO",
        "clip": [0.1, 100.0],
        "resolution": [384, 256],
        "objects": {
            "Sofa": {"pass_index": 3, "Description": "a grey fabric sofa", "location": [1.0, 2.0, 3.0]}
        },
        "view_layer": "ViewLayer",
    }
    json.dumps(side)


BPY = os.environ.get("SCENE_IMPORT_BPY_PYTHON")


@pytest.mark.blender
@pytest.mark.skipif(not BPY, reason="set SCENE_IMPORT_BPY_PYTHON to a Python with bpy 5.0.1")
def test_real_blender_render_reads_back(tmp_path):
    out = tmp_path / "room"
    r = subprocess.run(
        [BPY, os.path.join(ROOT, "tools", "blender", "make_sample_room.py"), "--out", str(out)]
        + ["--resolution", "128x96", "--samples", "2", "--half-cameras", ""],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    cams = load_cameras(str(out))
    assert [c.camera for c in cams] == ["Cam0", "Cam1", "Cam2"]
    vase = {c.camera: c.sidecar["objects"]["Vase"]["pass_index"] for c in cams}
    seen = {c.camera: bool((c.object_index == vase[c.camera]).any()) for c in cams}
    assert seen == {"Cam0": True, "Cam1": True, "Cam2": False}  # hidden under the table in Cam2
    for cs in cams:
        assert cs.layout == "blender5" and cs.normal_space == "world" and cs.no_hit_count > 0


def test_frame_list(exporter):
    assert exporter.frame_list("1-3") == [1, 2, 3] and exporter.frame_list("7") == [7]
    for bad in ("3-1", "a-b", ""):
        with pytest.raises(ValueError):
            exporter.frame_list(bad)
    assert exporter.parse_args(["--out", "x", "--frames", "1-24"]).frames == "1-24"


ANIMATED = r"""
import sys, bpy
sys.path.insert(0, sys.argv[1])
import scene_import_exporter as ex
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
bpy.ops.mesh.primitive_cube_add(location=(0, 0, 0))
bpy.context.object["Description"] = "a box"
for name, moving in (("Moving", True), ("Still", False)):
    cam = bpy.data.objects.new(name, bpy.data.cameras.new(name))
    scene.collection.objects.link(cam)
    cam.location = (0, -6, 0)
    cam.rotation_euler = (1.5708, 0, 0)
    if moving:
        cam.keyframe_insert("location", frame=1)
        cam.location = (1, -6, 0)
        cam.keyframe_insert("location", frame=3)
ex.export_scene(scene, sys.argv[2], samples=1, resolution=(32, 24), frames=[1, 2, 3])
"""


@pytest.mark.blender
@pytest.mark.skipif(not BPY, reason="set SCENE_IMPORT_BPY_PYTHON to a Python with bpy 5.0.1")
def test_real_blender_frame_range_with_a_sidecar_per_frame_for_a_moving_camera(tmp_path):
    from lib_scene.canvas import discover, load_frames

    script = tmp_path / "animated.py"
    script.write_text(ANIMATED)
    out = tmp_path / "frames"
    r = subprocess.run(
        [BPY, str(script), os.path.join(ROOT, "tools", "blender"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    names = sorted(os.listdir(out))
    assert [n for n in names if n.endswith(".exr")] == [
        f"{c}_{f:04d}.exr" for c in ("Moving", "Still") for f in (1, 2, 3)
    ]
    assert [n for n in names if n.endswith(".json")] == [f"Moving_{f:04d}.json" for f in (1, 2, 3)] + [
        "Still.json"
    ]
    cams = {c.camera: c for c in discover(str(out))}
    assert cams["Moving"].frame_numbers == [1, 2, 3] and cams["Still"].frame_numbers == [1, 2, 3]
    moving = load_frames(cams["Moving"])
    xs = [cs.sidecar["matrix_world"][0][3] for cs in moving]
    assert xs[0] == pytest.approx(0) and xs[-1] == pytest.approx(1) and 0 < xs[1] < 1
    assert {cs.sidecar_path for cs in load_frames(cams["Still"])} == {str(out / "Still.json")}
