"""Normal canvases -> ControlNet normal maps: space, axes, encoding, fills, errors, CLI.

Synthetic scenes are real EXRs written here: a ray-cast floor (z = 0, Blender's Z up) with a
unit sphere resting on it, seen by cameras from several sides (``orbit``), plus the shared
sphere scene of tests/scenes.py. The sample renders in samples/room (Blender 5 Cycles) and
samples/room_daz are used when present; the ball and the floor are found through the object
index pass and the sidecar's object names, never through pixel coordinates.
"""

from __future__ import annotations

import itertools
import json
import os
from fractions import Fraction

import numpy as np
import pytest
from normal_scenes import (
    BALL,
    FLOOR,
    _with_aov,
    assert_floor_green_blue,
    assert_sphere_colours,
    load,
    look_at,
    orbit_eye,
    render,
    write_orbit,
)
from scenes import CAM_ROT, sidecar, write_blender5, write_daz

from lib_scene.errors import CanvasError
from lib_scene.exr import write_exr
from lib_scene.normals import (
    axis_check,
    build_normal_map,
    camera_normals,
    camera_rotation,
    decode_normals,
    encode_normals,
    normal_map,
    parse_axes,
)

# --------------------------------------------------------------------------- encoding


def test_encode_bae_reference_directions():
    n = np.array(
        [[0, 0, 1], [-1, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, -1], [0.6, 0, 0.8]], np.float32
    )
    got = encode_normals(n, "bae")
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got[0], [128, 128, 255])  # a wall facing the camera
    np.testing.assert_array_equal(got[1], [255, 128, 128])  # faces left: red
    np.testing.assert_array_equal(got[2], [0, 128, 128])  # faces right: no red
    np.testing.assert_array_equal(got[3], [128, 255, 128])  # faces up: green
    np.testing.assert_array_equal(got[4], [128, 0, 128])
    np.testing.assert_array_equal(got[5], [128, 128, 0])
    np.testing.assert_array_equal(got[6], [51, 128, 230])  # (1-0.6)*127.5 = 51, (1.8)*127.5 = 229.5 -> 230


def test_encode_midas_is_bae_with_red_and_blue_swapped():
    rng = np.random.default_rng(4)
    n = rng.normal(size=(20, 30, 3)).astype(np.float32)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    bae, midas = encode_normals(n, "bae"), encode_normals(n, "midas")
    assert midas.shape == n.shape
    np.testing.assert_array_equal(midas, bae[..., ::-1])
    np.testing.assert_array_equal(encode_normals(np.array([0, 0, 1.0]), "midas"), [255, 128, 128])


def test_encode_clips_and_keeps_shape():
    n = np.array([[[3.0, -3.0, 2.0]], [[np.nan, 0.0, 1.0]]], np.float32)
    got = encode_normals(n, "bae")
    assert got.shape == (2, 1, 3)
    np.testing.assert_array_equal(got[0, 0], [0, 0, 255])
    assert got[1, 0, 0] == 128


def test_decode_inverts_encode_within_a_level():
    rng = np.random.default_rng(1)
    n = rng.normal(size=(500, 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    for conv in ("bae", "midas"):
        back = decode_normals(encode_normals(n, conv), conv)
        assert np.abs(back - n).max() <= 1 / 127.5 + 1e-6


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="bae, midas"):
        encode_normals(np.zeros((1, 3)), "opengl")


# --------------------------------------------------------------------------- camera matrix


def test_camera_rotation_removes_scale_and_reads_the_sidecar():
    mw = look_at(orbit_eye(30, 20), roll_deg=10, scale=(2.0, 0.5, 1.5))
    r = camera_rotation({"matrix_world": mw.tolist()})
    expect = look_at(orbit_eye(30, 20), roll_deg=10)[:3, :3]
    np.testing.assert_allclose(r, expect, atol=1e-12)
    np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(camera_rotation(mw[:3, :3]), expect, atol=1e-12)
    np.testing.assert_allclose(camera_rotation(sidecar()), CAM_ROT, atol=1e-7)


@pytest.mark.parametrize(
    "matrix, message",
    [
        (np.diag([1.0, 1.0, 0.0, 1.0]), "singular"),
        (np.diag([-1.0, 1.0, 1.0, 1.0]), "mirrored"),
        ([[1, 2], [3, 4]], "4x4"),
        ([[1, 0, 0], [0, "a", 0], [0, 0, 1]], "numeric"),
        (np.full((4, 4), np.nan), "non-finite"),
    ],
)
def test_camera_rotation_refuses_bad_matrices(matrix, message):
    with pytest.raises(CanvasError, match=message) as err:
        camera_rotation({"matrix_world": np.asarray(matrix, dtype=object).tolist()}, path="Cam9.json")
    assert "Cam9.json" in str(err.value)


def test_camera_rotation_needs_matrix_world():
    with pytest.raises(CanvasError, match="matrix_world"):
        camera_rotation({"camera": "Cam0"})


# --------------------------------------------------------------------------- rotation: exact values


def _unit_vectors_with_safe_codes() -> np.ndarray:
    """Unit vectors whose 8-bit codes are nowhere near a rounding tie: signed permutations of
    (2,3,6)/7, (1,4,8)/9 and (4,4,7)/9 (no component 0 or +-0.8, whose codes end in .5)."""
    out = set()
    for base, q in (((2, 3, 6), 7), ((1, 4, 8), 9), ((4, 4, 7), 9)):
        for perm in itertools.permutations(base):
            for signs in itertools.product((1, -1), repeat=3):
                out.add(tuple(Fraction(s * c, q) for s, c in zip(signs, perm, strict=True)))
    return sorted(out)


def _expected_code(c: Fraction) -> int:
    v = (1 + c) * Fraction(255, 2)  # exact; never a .5 tie for these vectors
    assert v.denominator != 2
    return int(v + Fraction(1, 2)) if v > 0 else 0


def test_rotation_world_field_gives_exact_codes(tmp_path):
    """A world-space normal field for a camera at a known orientation -> exact encoded values."""
    vecs = _unit_vectors_with_safe_codes()
    n_cam = np.array([[float(c) for c in v] for v in vecs], np.float64)
    expected = np.array([[_expected_code(-x), _expected_code(y), _expected_code(z)] for x, y, z in vecs])
    # camera: azimuth 30, elevation 20, rolled 10 degrees, and a non-uniformly scaled object
    mw = look_at(orbit_eye(30, 20), roll_deg=10, scale=(2.0, 0.5, 1.5))
    rot = look_at(orbit_eye(30, 20), roll_deg=10)[:3, :3]
    n_world = n_cam @ rot.T  # world = R n_cam
    k = len(vecs)
    width = k
    height = 2
    field = np.zeros((height, width, 3), np.float32)
    field[0] = n_world
    field[1] = n_world * 0.37  # shorter than unit (Cycles edge pixels): renormalised
    depth = np.full((height, width), 5.0, np.float32)
    write_exr(
        tmp_path / "CamR.exr",
        {
            "ViewLayer.Depth": {"ViewLayer.Depth.Z": depth},
            "ViewLayer.Normal": {f"ViewLayer.Normal.{c}": field[..., i] for i, c in enumerate("XYZ")},
        },
    )
    (tmp_path / "CamR.json").write_text(json.dumps({"camera": "CamR", "matrix_world": mw.tolist()}))
    cs = load(tmp_path / "CamR.exr")
    assert cs.normal_space == "world"
    img = normal_map(cs)
    assert img.shape == (height, width, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img[0], expected)
    np.testing.assert_array_equal(img[1], expected)
    np.testing.assert_array_equal(normal_map(cs, "midas")[0], expected[:, ::-1])


def test_known_rotation_of_the_shared_scene(blender5, tmp_path):
    # CAM_ROT: camera x -> world -Z, camera y -> world +Y, camera z (toward the viewer) -> world +X
    (tmp_path / "Cam0.json").write_text(json.dumps(sidecar()))
    cs = load(blender5)
    img = normal_map(cs)
    index = np.rint(cs.object_index)
    wall = index == 3  # faces the camera
    assert (img[wall] == [128, 128, 255]).all()
    world = np.asarray(cs.normal)[wall]
    np.testing.assert_allclose(world, np.broadcast_to([1.0, 0.0, 0.0], world.shape), atol=1e-6)


# --------------------------------------------------------------------------- sphere and floor, every camera

ORBIT = [
    ("az0", 0.0, 35.0, 0.0),
    ("az90", 90.0, 35.0, 0.0),
    ("az180", 180.0, 35.0, 0.0),
    ("az270", 270.0, 35.0, 0.0),
    ("az45_high", 45.0, 60.0, 0.0),
    ("az200_rolled", 200.0, 30.0, 20.0),
]


@pytest.mark.parametrize("name, az, el, roll", ORBIT)
def test_orbit_sphere_and_floor_colours(tmp_path, name, az, el, roll):
    mw = look_at(orbit_eye(az, el), roll_deg=roll)
    cs = load(write_orbit(tmp_path, name, mw))
    img = normal_map(cs)
    assert img.shape == (cs.height, cs.width, 3)
    index = np.rint(cs.object_index)
    assert_sphere_colours(img, index == BALL, name, centre_blue=245)
    if roll == 0:
        assert_floor_green_blue(img, index == FLOOR, name)
    assert (img[index == 0] == [128, 128, 255]).all()  # no hit: faces the camera


def test_orbit_opposite_sides_flip_red(tmp_path):
    """The same sphere surface seen from cameras on opposite sides: red flips."""
    a, b = look_at(orbit_eye(0, 35)), look_at(orbit_eye(180, 35))
    # a surface facing up and toward camera A's right: camera B's right is the opposite way
    d = a[:3, 0] * 0.6 + np.array([0.0, 0.0, 1.0])
    d /= np.linalg.norm(d)
    reds = []
    for name, mw in (("A", a), ("B", b)):
        cs = load(write_orbit(tmp_path, name, mw, width=160, height=120))
        img = normal_map(cs)
        n = np.asarray(cs.normal)
        sel = (np.rint(cs.object_index) == BALL) & (n @ d > 0.97)
        assert sel.sum() >= 5
        reds.append(np.median(img[sel][:, 0]))
    assert reds[0] < 80, reds  # faces A's right: little red
    assert reds[1] > 175, reds  # faces B's left: strong red


def test_renormalises_short_normals_and_fills_zero_ones(tmp_path):
    mw = look_at(orbit_eye(60, 30))
    ref = normal_map(load(write_orbit(tmp_path, "ref", mw)))
    rng = np.random.default_rng(7)

    def shorten(n, index):
        scale = rng.uniform(0.05, 1.0, size=n.shape[:2]).astype(np.float32)
        return n * scale[..., None]

    short = normal_map(load(write_orbit(tmp_path, "short", mw, normals=shorten)))
    np.testing.assert_array_equal(short, ref)

    def zero_some(n, index):
        n = n.copy()
        n[index == BALL] = 0.0  # zero length on hit pixels
        n[index == FLOOR] *= 1e-4  # below min_length
        return n

    cs = load(write_orbit(tmp_path, "zero", mw, normals=zero_some))
    img = normal_map(cs)
    hit = np.asarray(cs.hit)
    assert hit[np.rint(cs.object_index) == BALL].all()
    assert (img == [128, 128, 255]).all()
    img = normal_map(cs, fill=(1.0, 0.0, 0.0))
    assert (img == [0, 128, 128]).all()
    _, valid, _ = camera_normals(cs)
    assert not valid.any()


def test_fill_is_encoded_in_the_convention(blender5, tmp_path):
    (tmp_path / "Cam0.json").write_text(json.dumps(sidecar()))
    cs = load(blender5)
    sky = ~np.asarray(cs.hit)
    assert sky.any()
    assert (normal_map(cs)[sky] == [128, 128, 255]).all()
    assert (normal_map(cs, "midas")[sky] == [255, 128, 128]).all()
    assert (normal_map(cs, fill=(0.0, 1.0, 0.0))[sky] == [128, 255, 128]).all()
    with pytest.raises(ValueError, match="fill"):
        normal_map(cs, fill=(0.0, 0.0, 2.0))
    with pytest.raises(ValueError, match="fill"):
        normal_map(cs, fill=(0.0, 1.0))


def test_midas_map_is_bae_with_red_and_blue_swapped(tmp_path):
    cs = load(write_orbit(tmp_path, "m", look_at(orbit_eye(120, 40))))
    np.testing.assert_array_equal(normal_map(cs, "midas"), normal_map(cs, "bae")[..., ::-1])


# --------------------------------------------------------------------------- world space needs a matrix


def test_world_space_without_matrix_is_an_error(blender5):
    cs = load(blender5)
    assert cs.normal_space == "world" and cs.sidecar is None
    with pytest.raises(CanvasError) as err:
        normal_map(cs)
    msg = str(err.value)
    assert msg.startswith(blender5)
    assert "Cam0.json" in msg and "--sidecar" in msg and "world" in msg


def test_sidecar_without_matrix_world_is_an_error(blender4, tmp_path):
    side = sidecar()
    del side["matrix_world"]
    (tmp_path / "Cam0.json").write_text(json.dumps(side))
    with pytest.raises(CanvasError, match="matrix_world") as err:
        normal_map(load(blender4))
    assert "Cam0.json" in str(err.value)


def test_sidecar_argument_dict_or_path(blender4, tmp_path):
    cs = load(blender4)
    side_path = tmp_path / "elsewhere.json"
    side_path.write_text(json.dumps(sidecar()))
    a = normal_map(cs, sidecar=sidecar())
    b = normal_map(cs, sidecar=str(side_path))
    np.testing.assert_array_equal(a, b)
    assert (a[np.rint(cs.object_index) == 3] == [128, 128, 255]).all()


def test_wrong_camera_matrix_is_warned_about(tmp_path):
    right = look_at(orbit_eye(0, 35))
    wrong = look_at(orbit_eye(180, 35))
    path = write_orbit(tmp_path, "w", right, sidecar_file=False)
    res = build_normal_map(load(path), sidecar={"matrix_world": wrong.tolist()})
    assert any("another camera" in w for w in res.warnings), res.warnings
    ok = build_normal_map(load(path), sidecar={"matrix_world": right.tolist()})
    assert ok.warnings == []
    assert ok.check.facing > 0.95 and ok.check.x_agree > 0.9 and ok.check.y_agree > 0.9


# --------------------------------------------------------------------------- Daz path


def test_daz_matches_the_blender_world_path(tmp_path):
    """The same scene as a Daz camera-space canvas and as a Blender world pass + sidecar."""
    paths = write_daz(str(tmp_path / "daz"))
    daz = load(os.path.dirname(paths["normal"]))
    assert daz.layout == "daz" and daz.normal_space == "camera"
    blend = write_blender5(str(tmp_path / "Cam0.exr"))
    (tmp_path / "Cam0.json").write_text(json.dumps(sidecar()))
    a, b = normal_map(daz), normal_map(load(blend))
    assert a.shape == b.shape == (daz.height, daz.width, 3)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # Daz normals are half floats
    index = np.rint(load(blend).object_index)
    assert_sphere_colours(a, index == 1, "daz sphere", centre_blue=245)


@pytest.mark.parametrize(
    "stored, spec",
    [
        (lambda n: n * [1, -1, -1], "x,-y,-z"),  # OpenCV-style: y down, z into the scene
        (lambda n: n * [1, -1, -1], "opencv"),
        (lambda n: n * [-1, 1, 1], "-x,y,z"),  # mirrored x
        (lambda n: n[..., [0, 2, 1]], "x,z,y"),  # y and z swapped
    ],
)
def test_daz_axis_variants(tmp_path, stored, spec):
    ref_paths = write_daz(str(tmp_path / "ref"))
    ref = normal_map(load(os.path.dirname(ref_paths["normal"])))
    paths = write_daz(str(tmp_path / "var"))
    cs = load(os.path.dirname(paths["normal"]))
    n = stored(np.asarray(cs.normal).astype(np.float32))
    write_exr(paths["normal"], {c: n[..., i].astype(np.float16) for i, c in enumerate("RGB")})
    cs = load(os.path.dirname(paths["normal"]))
    np.testing.assert_array_equal(normal_map(cs, axes=spec), ref)
    default = build_normal_map(cs)
    assert default.warnings, "a wrongly-mapped canvas must be warned about"


def test_daz_auto_axes_recover_sign_flips(tmp_path):
    ref_paths = write_daz(str(tmp_path / "ref"))
    ref = normal_map(load(os.path.dirname(ref_paths["normal"])))
    for signs in ([1, -1, -1], [-1, 1, 1], [-1, -1, -1]):
        paths = write_daz(str(tmp_path / f"v{signs}"))
        cs = load(os.path.dirname(paths["normal"]))
        n = np.asarray(cs.normal) * np.array(signs, np.float32)
        write_exr(paths["normal"], {c: n[..., i].astype(np.float16) for i, c in enumerate("RGB")})
        res = build_normal_map(load(os.path.dirname(paths["normal"])), axes="auto")
        np.testing.assert_array_equal(res.image, ref)
        assert res.source.axes == ",".join(
            ("-" if s < 0 else "") + a for s, a in zip(signs, "xyz", strict=True)
        )
        assert any("decided from the data" in w for w in res.warnings)


def test_parse_axes():
    np.testing.assert_array_equal(parse_axes("x,y,z"), np.eye(3))
    m = parse_axes("x,-y,-z")
    np.testing.assert_array_equal(np.array([1.0, 2.0, 3.0]) @ m, [1.0, -2.0, -3.0])
    m = parse_axes("x,z,y")
    np.testing.assert_array_equal(np.array([1.0, 2.0, 3.0]) @ m, [1.0, 3.0, 2.0])
    np.testing.assert_array_equal(parse_axes("cycles"), parse_axes("x y -z"))
    np.testing.assert_array_equal(parse_axes("-r+g+b"), parse_axes("-x,y,z"))
    for bad in ("x,y", "x,x,z", "a,b,c", ""):
        with pytest.raises(ValueError):
            parse_axes(bad)


# --------------------------------------------------------------------------- camera-space AOV


def test_camera_normal_aov_is_used_without_a_sidecar(tmp_path):
    # Cycles' Vector Transform "Camera" space: z points into the scene
    path, mw = _with_aov(tmp_path, "aov", "CameraNormal", lambda n: n * [1, 1, -1], sidecar_file=False)
    cs = load(path)
    res = build_normal_map(cs)
    assert res.source.kind == "aov CameraNormal" and res.source.axes == "x,y,-z"
    expected = normal_map(cs, sidecar={"matrix_world": mw.tolist()}, source="normal")
    np.testing.assert_array_equal(res.image, expected)
    np.testing.assert_array_equal(normal_map(cs, aov="CameraNormal", axes="cycles"), expected)


def test_world_pass_with_matrix_wins_over_aov_unless_named(tmp_path):
    path, mw = _with_aov(tmp_path, "both", "Normal_Cam", lambda n: -n, sidecar_file=True)
    cs = load(path)
    res = build_normal_map(cs)
    assert res.source.kind == "Normal pass" and res.source.space == "world"
    picked = build_normal_map(cs, aov="Normal_Cam", axes="-x,-y,-z")
    assert picked.source.kind == "aov Normal_Cam"
    np.testing.assert_array_equal(picked.image, res.image)
    with pytest.raises(CanvasError, match="no pass named 'Nope'"):
        normal_map(cs, aov="Nope")


# --------------------------------------------------------------------------- axis check


def test_axis_check_reports_agreement_and_flips():
    depth, n_world, index = render(look_at(orbit_eye(0, 35)), width=128, height=96)
    mw = look_at(orbit_eye(0, 35))
    n_cam = n_world @ mw[:3, :3]
    valid = index > 0
    good = axis_check(n_cam, valid, depth, object_index=index)
    assert good.facing > 0.99 and good.x_agree > 0.95 and good.y_agree > 0.95
    assert good.flips() == (False, False, False)
    bad = axis_check(n_cam * [-1, -1, -1], valid, depth, object_index=index)
    assert bad.flips() == (True, True, True)
    none = axis_check(n_cam, valid, None)
    assert none.x_agree is None and none.y_agree is None
