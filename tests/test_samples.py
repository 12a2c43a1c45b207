"""The bundled sample renders (real Blender 5.0.1 Cycles output) and their Daz-style conversion."""

import json
import os

import numpy as np
import pytest
from conftest import SAMPLES

from lib_scene.canvas import load_cameras
from lib_scene.depth import Quantized, auto_plan, histogram

ROOM = os.path.join(SAMPLES, "room")
DAZ = os.path.join(SAMPLES, "room_daz")
pytestmark = pytest.mark.skipif(not os.path.isdir(ROOM), reason="samples/room is not present")


@pytest.fixture(scope="module")
def room():
    return load_cameras(ROOM)


def test_room_has_three_blender5_cameras_with_every_pass(room):
    assert [c.camera for c in room] == ["Cam0", "Cam1", "Cam2"]
    for cs in room:
        assert cs.layout == "blender5" and (cs.width, cs.height) == (512, 384)
        for arr in (cs.depth, cs.normal, cs.beauty, cs.object_index, cs.material_index):
            assert arr is not None and arr.shape[:2] == (384, 512)
        assert cs.sidecar["camera"] == cs.camera and len(cs.sidecar["objects"]) >= 6
        # Cycles' 1e10 background is no hit and never reaches the range
        assert cs.no_hit_count > 0 and cs.depth_range()[1] < 20


def test_index_pass_is_exact_integers_and_matches_sidecar(room):
    for cs in room:
        idx = cs.object_index
        assert np.array_equal(idx, np.rint(idx))
        known = {o["pass_index"] for o in cs.sidecar["objects"].values()} | {0}
        assert set(np.unique(idx).astype(int)) <= known


def test_background_does_not_collapse_the_histogram(room):
    cs = room[0]
    h = histogram(cs.depth, cs.hit, bins=20)
    assert h.hits == int(cs.hit.sum()) and h.edges[-1] < 20
    assert (h.counts > 0).sum() >= 15  # depth spread over the bins, not one bin holding 1e10


def test_one_preset_serves_every_camera(room):
    plan = auto_plan(room[0].depth, room[0].hit)
    for cs in room:
        q = Quantized.of(cs.depth, cs.hit, plan)
        assert q.grey().shape == (384, 512) and q.usage().used > 100


@pytest.mark.skipif(not os.path.isdir(DAZ), reason="samples/room_daz is not present")
def test_daz_conversion_matches_cam0_in_centimetres(room):
    (daz,) = load_cameras(DAZ)
    assert daz.layout == "daz" and daz.depth_unit == "cm" and daz.normal_space == "camera"
    cam0 = room[0]
    np.testing.assert_array_equal(daz.hit, cam0.hit)
    np.testing.assert_allclose(daz.depth[daz.hit], cam0.depth[cam0.hit] * 100, rtol=1e-6)


def test_sidecar_format_is_the_interchange_format():
    with open(os.path.join(ROOM, "Cam0.json")) as fh:
        side = json.load(fh)
    for key in (
        "camera",
        "matrix_world",
        "lens_mm",
        "sensor_width_mm",
        "sensor_fit",
        "clip",
        "resolution",
        "objects",
    ):
        assert key in side
    m = np.array(side["matrix_world"])
    assert m.shape == (4, 4) and np.allclose(m[3], [0, 0, 0, 1])
    assert np.allclose(m[:3, :3] @ m[:3, :3].T, np.eye(3), atol=1e-5)
    for obj in side["objects"].values():
        assert {"pass_index", "Description", "location"} <= set(obj)
