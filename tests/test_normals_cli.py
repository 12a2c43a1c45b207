"""Normal maps through the CLI, on the sample renders and in Blender's own camera space (split from
test_normals.py)."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil

import numpy as np
import pytest
from normal_scenes import (
    ROOM,
    ROOM_DAZ,
    _with_aov,
    assert_floor_green_blue,
    assert_sphere_colours,
    have_room,
    have_room_daz,
    load,
    look_at,
    orbit_eye,
    write_orbit,
)
from PIL import Image
from scenes import sidecar, write_daz

from lib_scene.canvas import CanvasSet, load_cameras
from lib_scene.cli import main
from lib_scene.exr import write_exr
from lib_scene.normals import (
    build_normal_map,
    normal_map,
)

# --------------------------------------------------------------------------- CLI


def test_cli_writes_rgb_png_of_canvas_size(blender5, tmp_path, capsys):
    (tmp_path / "Cam0.json").write_text(json.dumps(sidecar()))
    out = tmp_path / "out"
    assert main(["normal", blender5, "--out", str(out)]) == 0
    png = out / "Cam0.normal.png"
    with Image.open(png) as im:
        assert im.mode == "RGB" and im.size == (64, 48)
        arr = np.asarray(im)
    np.testing.assert_array_equal(arr, normal_map(load(blender5)))
    assert "wrote" in capsys.readouterr().out


def test_cli_options(blender5, tmp_path):
    side = tmp_path / "side.json"
    side.write_text(json.dumps(sidecar()))
    out = tmp_path / "out"
    rc = main(
        [
            "normal",
            blender5,
            "--sidecar",
            str(side),
            "--convention",
            "midas",
            "--fill",
            "1,0,0",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    arr = np.asarray(Image.open(out / "Cam0.normal.png"))
    cs = load(blender5)
    np.testing.assert_array_equal(arr, normal_map(cs, "midas", sidecar=str(side), fill=(1, 0, 0)))
    assert (arr[~np.asarray(cs.hit)] == [128, 128, 0]).all()


def test_cli_sidecar_folder_for_several_cameras(tmp_path):
    scenes_dir = tmp_path / "cams"
    sides = tmp_path / "sides"
    scenes_dir.mkdir()
    sides.mkdir()
    for name, az in (("CamA", 10.0), ("CamB", 190.0)):
        mw = look_at(orbit_eye(az, 35))
        write_orbit(sides, name, mw)  # writes the sidecar there
        write_orbit(scenes_dir, name, mw, sidecar_file=False)
    out = tmp_path / "out"
    assert main(["normal", str(scenes_dir), "--sidecar", str(sides), "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["CamA.normal.png", "CamB.normal.png"]
    # one sidecar file for a folder of several cameras is ambiguous
    assert main(["normal", str(scenes_dir), "--sidecar", str(sides / "CamA.json"), "--out", str(out)]) == 2


def test_cli_missing_matrix_is_a_clear_error(blender5, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["normal", blender5, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Cam0.json" in err and "--sidecar" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "option", [["--fill", "0,0,3"], ["--fill", "0,1"], ["--axes", "x,x,z"], ["--axes", "up"]]
)
def test_cli_rejects_bad_options(blender5, tmp_path, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["normal", blender5, *option, "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert option[0] in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_axes_for_a_daz_canvas(tmp_path):
    paths = write_daz(str(tmp_path / "daz"))
    folder = os.path.dirname(paths["normal"])
    ref = normal_map(load(folder))
    n = np.asarray(load(folder).normal) * np.array([1, -1, -1], np.float32)
    write_exr(paths["normal"], {c: n[..., i].astype(np.float16) for i, c in enumerate("RGB")})
    out = tmp_path / "out"
    assert main(["normal", folder, "--axes", "opencv", "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out / "scene.normal.png")), ref)


# --------------------------------------------------------------------------- sample renders


def _sample_object(cs: CanvasSet, pattern: str) -> np.ndarray:
    """Mask of the object whose sidecar name or description matches ``pattern``."""
    assert cs.sidecar and cs.object_index is not None
    idx = [
        int(o["pass_index"])
        for name, o in cs.sidecar["objects"].items()
        if re.search(pattern, name, re.I) or re.search(pattern, str(o.get("Description", "")), re.I)
    ]
    assert len(set(idx)) == 1, f"{pattern!r} names objects {idx} in {cs.camera}"
    return np.rint(cs.object_index) == idx[0]


@pytest.fixture(scope="module")
def room():
    if not os.path.isfile(os.path.join(ROOM, "Cam0.exr")):
        pytest.skip("sample renders samples/room not present")
    return load_cameras(ROOM)


@have_room
def test_samples_sphere_and_floor_in_every_camera(room):
    assert len(room) >= 2
    for cs in room:
        img = normal_map(cs)
        assert img.shape == (cs.height, cs.width, 3) and img.dtype == np.uint8
        assert_sphere_colours(img, _sample_object(cs, r"\b(ball|sphere)\b"), cs.camera, centre_blue=230)
        assert_floor_green_blue(img, _sample_object(cs, r"^floor$"), cs.camera)
        assert (img[~np.asarray(cs.hit)] == [128, 128, 255]).all()
        res = build_normal_map(cs)
        assert res.warnings == [], res.warnings
        assert res.check.x_agree > 0.9 and res.check.y_agree > 0.9


def _fibonacci(n: int) -> np.ndarray:
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], -1)


@have_room
def test_samples_same_surface_from_opposite_sides_flips_red(room):
    """Ball surfaces facing one camera's right and another's left: red is low in one, high in the other."""
    data = []
    for cs in room:
        m = np.asarray(cs.sidecar["matrix_world"], float)[:3, :3]
        m = m / np.linalg.norm(m, axis=0)
        n = np.asarray(cs.normal, float)
        n = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
        ball = _sample_object(cs, r"\b(ball|sphere)\b") & np.asarray(cs.hit)
        data.append((cs.camera, m[:, 0], m[:, 2], n, ball, normal_map(cs)))
    tested = []
    for (ca, right_a, back_a, na, ba, ia), (cb, right_b, back_b, nb, bb, ib) in itertools.combinations(
        data, 2
    ):
        for d in _fibonacci(400):
            if min(d @ back_a, d @ back_b) < 0.15 or (d @ right_a) * (d @ right_b) > -0.16:
                continue
            sa, sb = ba & (na @ d > 0.97), bb & (nb @ d > 0.97)
            if sa.sum() < 4 or sb.sum() < 4:
                continue
            red_a, red_b = np.median(ia[sa][:, 0]), np.median(ib[sb][:, 0])
            if d @ right_a > 0:  # faces camera a's right, camera b's left
                assert red_a < 100 and red_b > 155, (ca, cb, d, red_a, red_b)
            else:
                assert red_a > 155 and red_b < 100, (ca, cb, d, red_a, red_b)
            tested.append((ca, cb))
    assert len(set(tested)) >= 1 and len(tested) >= 3, tested


@have_room
def test_samples_midas(room):
    for cs in room:
        np.testing.assert_array_equal(normal_map(cs, "midas"), normal_map(cs)[..., ::-1])


@have_room_daz
def test_samples_daz_canvas_matches_blender_camera(room):
    (daz,) = load_cameras(ROOM_DAZ)
    assert daz.layout == "daz" and daz.normal_space == "camera"
    cam0 = next(cs for cs in room if cs.camera == "Cam0")
    a, b = normal_map(daz), normal_map(cam0)
    assert a.shape == b.shape
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=-1)
    assert (diff <= 1).mean() > 0.999, np.bincount(diff.ravel())
    res = build_normal_map(daz)
    assert res.warnings == [] and res.source.axes == "x,y,z"
    assert res.check.x_agree > 0.9 and res.check.y_agree > 0.9 and res.check.facing > 0.9


# --------------------------------------------------------------------------- Blender's own camera space

BPY = os.environ.get("SCENE_IMPORT_BPY_PYTHON")


@pytest.mark.blender
@pytest.mark.skipif(not BPY, reason="set SCENE_IMPORT_BPY_PYTHON to a Python with bpy 5.0.1")
def test_world_pass_matches_blenders_camera_space_aov(tmp_path):
    """Cycles renders the Normal pass (world) and, via Vector Transform World -> Camera, a camera-space
    AOV: our world -> camera transform must agree with Blender's, whose camera z points into the scene."""
    import subprocess

    script = os.path.join(os.path.dirname(__file__), "bpy_camera_normal_aov.py")
    r = subprocess.run([BPY, script, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    cams = load_cameras(str(tmp_path))
    assert [c.camera for c in cams] == ["Cam0", "Cam1", "Cam2"]
    for cs in cams:
        world = build_normal_map(cs)
        assert world.source.kind == "Normal pass" and world.warnings == []
        aov = build_normal_map(cs, aov="CameraNormal")  # axes decided from the data
        assert aov.source.axes == "x,y,-z", (cs.camera, aov.warnings)
        diff = np.abs(world.image.astype(int) - aov.image.astype(int)).max(axis=-1)
        assert (diff <= 1).mean() > 0.995, (cs.camera, np.bincount(diff.ravel()))
        index = np.rint(cs.object_index)
        assert_sphere_colours(world.image, index == 1, f"Blender {cs.camera}", centre_blue=240)
        if cs.camera != "Cam2":  # Cam2 is rolled: the floor is not straight up in it
            assert_floor_green_blue(world.image, index == 2, f"Blender {cs.camera}")
        assert (world.image[~np.asarray(cs.hit)] == [128, 128, 255]).all()


def test_daz_normal_canvas_alone(tmp_path):
    """A Daz render with only its Normal canvas: no depth, so no-hit comes from zero-length normals."""
    paths = write_daz(str(tmp_path / "full"))
    ref = normal_map(load(os.path.dirname(paths["normal"])))
    solo = tmp_path / "solo"
    solo.mkdir()
    target = solo / os.path.basename(paths["normal"])
    shutil.copyfile(paths["normal"], target)
    cs = load(str(solo))
    assert cs.hit is None and cs.depth is None
    res = build_normal_map(cs)
    np.testing.assert_array_equal(res.image, ref)  # sky normals are zero there: filled the same
    assert res.check.x_agree is None and res.check.facing > 0.95


@pytest.mark.parametrize(
    "name, found",
    [
        ("CameraNormal", True),
        ("Normal_Camera", True),
        ("normal cam", True),
        ("ViewNormal", True),
        ("N_cam", True),
        ("Normal", False),
        ("CameraDepth", False),
        ("WorldNormal", False),
    ],
)
def test_camera_normal_aov_names(tmp_path, name, found):
    from lib_scene.normals import camera_normal_aovs

    path, _ = _with_aov(tmp_path, "n", name, lambda n: n, sidecar_file=False)
    assert (camera_normal_aovs(load(path)) == [name]) is found
