"""Reprojection between posed cameras: geometry, disocclusion masks, the sample room, the CLI."""

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest
from conftest import SAMPLES
from PIL import Image
from posed_scenes import (
    BOX_H,
    BOX_W,
    PANEL_BACK,
    PLANE_H,
    PLANE_W,
    box_hidden,
    box_render,
    box_scene,
    colour_image,
    panel_render,
    panel_scene,
    plane_homography,
    plane_scene,
    sidecar,
)
from scenes import write_blender5, write_daz

from lib_scene import reproject
from lib_scene.camera import PoseError, camera_from_sidecar, camera_of, nearest_pose_order
from lib_scene.canvas import discover, load_camera, load_daz, load_multilayer
from lib_scene.cli import main
from lib_scene.consistency import PSNR_CAP, scene_consistency
from lib_scene.errors import SceneImportError
from lib_scene.imaging import tonemap_srgb
from lib_scene.reproject import View, WarpError, output_size, warp, warp_image

ROOM = os.path.join(SAMPLES, "room")


def _view(folder, name):
    return View.of(load_multilayer(os.path.join(folder, f"{name}.exr")))


def _png(path, arr):
    Image.fromarray(arr).save(path)
    return str(path)


# --------------------------------------------------------------------------- camera model


@pytest.mark.parametrize(
    ("fit", "w", "h", "fx"),
    [
        ("AUTO", 400, 300, 50 / 36 * 400),  # the width is the larger side: sensor width over W
        ("AUTO", 300, 400, 50 / 36 * 400),  # portrait: sensor *width* over the larger side H
        ("HORIZONTAL", 300, 400, 50 / 36 * 300),
        ("VERTICAL", 400, 300, 50 / 24 * 300),  # sensor height over H
    ],
)
def test_sensor_fit_follows_blender(fit, w, h, fx):
    side = sidecar("C", np.eye(4), 50.0, w, h) | {"sensor_fit": fit, "sensor_height_mm": 24.0}
    cam = camera_from_sidecar(side, "C", w, h)
    assert cam.fx == pytest.approx(fx) and cam.fy == pytest.approx(fx)
    assert (cam.cx, cam.cy) == (w / 2, h / 2)
    half = camera_from_sidecar(side, "C", w // 2, h // 2)  # a canvas at 50 %: the same view
    assert half.fx == pytest.approx(fx / 2) and half.cx == w / 4


def test_shift_moves_the_principal_point():
    side = sidecar("C", np.eye(4), 50.0, 400, 300) | {"shift": [0.1, -0.05]}
    cam = camera_from_sidecar(side, "C", 400, 300)
    # shift is in units of the fitted (larger) dimension; +x shows more of the right: axis moves left
    assert (cam.cx, cam.cy) == pytest.approx((200 - 40, 150 - 20))


def test_sample_depth_is_planar_along_the_view_axis():
    """The floor (index 4) unprojects to world z = 0 with planar depth, not with ray distance."""
    cs = load_multilayer(os.path.join(ROOM, "Cam2.exr"))
    cam = camera_of(cs)
    a, b = cam.ray_factors()
    z = cs.depth.astype(np.float64)
    floor = (np.rint(cs.object_index) == 4) & cs.hit
    world_z = (np.stack([a[None] * z, b[:, None] * z, -z], -1) @ cam.cam_to_world[:3, :3].T)[..., 2]
    assert np.abs(world_z + cam.cam_to_world[2, 3])[floor].max() < 1e-3


def test_nearest_pose_order_of_the_room():
    cams = [camera_of(load_multilayer(os.path.join(ROOM, f"Cam{i}.exr"))) for i in range(3)]
    # Cam2 stands 5.5 m from Cam0, Cam1 7.8 m: Cam0 -> Cam2 -> Cam1 (Cam0 and Cam2 share the most)
    assert nearest_pose_order(cams) == [0, 2, 1]
    assert nearest_pose_order(cams, start=1) == [1, 2, 0]
    with pytest.raises(IndexError):
        nearest_pose_order(cams, start=3)


# --------------------------------------------------------------------------- synthetic scenes


@pytest.mark.parametrize("scale", [1, 2])
def test_textured_plane_warp_is_the_analytic_homography(tmp_path, scale):
    """An image holding each A pixel's own (u, v), warped into B, reads back the homography."""
    plane_scene(str(tmp_path))
    a, b = _view(tmp_path, "A"), _view(tmp_path, "B")
    w, h = PLANE_W * scale, PLANE_H * scale
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    coords = np.stack([xs + 0.5, ys + 0.5], -1)  # the "texture": A's pixel coordinates
    res = warp([(a, coords)], b, (w, h))
    hu, hv = plane_homography(w, h)
    inside = (hu >= 0.01) & (hu <= w - 0.01) & (hv >= 0.01) & (hv <= h - 0.01)
    outside = (hu < -0.01) | (hu > w + 0.01) | (hv < -0.01) | (hv > h + 0.01)
    assert inside.mean() > 0.6 and outside.any()
    carried = res.mask == 0
    assert carried[inside].all() and not carried[outside].any()  # no holes, nothing from outside
    du, dv = np.abs(res.image[..., 0] - hu), np.abs(res.image[..., 1] - hv)
    assert max(du[carried].max(), dv[carried].max()) <= 0.5 + 1e-3  # within half a pixel everywhere
    # between the outer pixel centres (no clamping at the frame border) it is near exact
    core = (hu >= 0.5) & (hu <= w - 0.5) & (hv >= 0.5) & (hv <= h - 0.5)
    assert core.mean() > 0.6 and np.hypot(du, dv)[core].max() < 0.05
    assert (res.image[~carried] == 0).all() and (res.mask[~carried] == 255).all()


def test_textured_plane_checkerboard_uint8(tmp_path):
    """A uint8 checkerboard on the plane, warped, equals B's own render of it off the square edges."""
    plane_scene(str(tmp_path))
    a, b = _view(tmp_path, "A"), _view(tmp_path, "B")
    ys, xs = np.mgrid[0:PLANE_H, 0:PLANE_W]
    checker = (((xs // 8) + (ys // 8)) % 2 * 255).astype(np.uint8)
    img = np.stack([checker, 255 - checker, np.full_like(checker, 128)], -1)
    got, mask = warp_image([(a, img)], b)
    hu, hv = plane_homography()
    own = (((np.floor(hu) // 8) + (np.floor(hv) // 8)) % 2 * 255).astype(np.uint8)
    near_edge = (np.abs(hu / 8 - np.rint(hu / 8)) < 0.2) | (np.abs(hv / 8 - np.rint(hv / 8)) < 0.2)
    sel = (mask == 0) & ~near_edge
    assert sel.sum() > 1500 and (got[..., 0][sel] == own[sel]).all()


def test_box_in_front_of_a_wall_disocclusion_strip_is_exactly_the_mask(tmp_path):
    box_scene(str(tmp_path), {"A": 0.0, "B": 0.5})
    a, b = _view(tmp_path, "A"), _view(tmp_path, "B")
    _, index_a = box_render(0.0)
    _, index_b = box_render(0.5)
    res = warp([(a, colour_image(index_a))], b)
    expected = box_hidden(0.5, 0.0)
    assert np.array_equal(res.mask == 255, expected)
    # the strip right of the box, rows 8..39 x columns 40..43, and the 4 columns A's frame misses
    strip = np.zeros_like(expected)
    strip[8:40, 40:44] = True
    strip[:, 60:] = True
    assert np.array_equal(expected, strip)
    # what was carried is exactly B's own colour: no box colour leaked onto the wall, no blend
    carried = res.mask == 0
    assert np.array_equal(res.image[carried], colour_image(index_b)[carried])


def test_box_accumulates_sources_first_valid_wins(tmp_path):
    """A third camera fills the strip A could not see; earlier sources win where both saw."""
    box_scene(str(tmp_path), {"A": 0.0, "B": 0.5, "C": 1.0})
    a, b, c = (_view(tmp_path, n) for n in "ABC")
    imgs = {x: colour_image(box_render(x)[1]) for x in (0.0, 1.0)}
    res = warp([(a, imgs[0.0]), (c, imgs[1.0])], b)
    assert (res.mask == 0).all()
    hidden_a = box_hidden(0.5, 0.0)
    assert (res.source[hidden_a] == 1).all() and (res.source[~hidden_a] == 0).all()
    assert np.array_equal(res.image, colour_image(box_render(0.5)[1]))
    swapped = warp([(c, imgs[1.0]), (a, imgs[0.0])], b)
    hidden_c = box_hidden(0.5, 1.0)
    assert (swapped.source[hidden_c] == 1).all() and (swapped.source[~hidden_c] == 0).all()


def test_block_size_does_not_change_the_result(tmp_path, monkeypatch):
    """The warp runs in blocks of target pixels; tiny odd blocks give exactly the same output."""
    box_scene(str(tmp_path), {"A": 0.0, "B": 0.5, "C": 1.0})
    a, b, c = (_view(tmp_path, n) for n in "ABC")
    srcs = [(a, colour_image(box_render(0.0)[1])), (c, colour_image(box_render(1.0)[1]))]
    whole = warp(srcs, b, (128, 96))
    monkeypatch.setattr(reproject, "_BLOCK", 37)
    blocks = warp(srcs, b, (128, 96))
    assert np.array_equal(whole.image, blocks.image) and np.array_equal(whole.source, blocks.source)


def test_images_of_any_size_with_the_aspect(tmp_path):
    box_scene(str(tmp_path), {"A": 0.0, "B": 0.5})
    a, b = _view(tmp_path, "A"), _view(tmp_path, "B")
    big = colour_image(np.kron(box_render(0.0)[1], np.ones((3, 3))))  # 192 x 144
    res = warp([(a, big)], b, output_size(b.camera, 192))
    assert res.image.shape == (144, 192, 3)
    small = warp([(a, colour_image(box_render(0.0)[1]))], b)
    assert np.array_equal(res.mask[1::3, 1::3], small.mask)  # the same mask, three times finer
    with pytest.raises(WarpError, match="aspect"):
        warp([(a, np.zeros((50, 50, 3), np.uint8))], b)


def test_fixed_point_rgb8_filter_matches_the_float_filter(tmp_path):
    """8-bit RGB(A) takes the fixed-point path; it agrees with the float path to a level on smooth
    content, is exact on flat content and never carries into the next channel at 255."""
    plane_scene(str(tmp_path))
    a, b = _view(tmp_path, "A"), _view(tmp_path, "B")
    ys, xs = np.mgrid[0:PLANE_H, 0:PLANE_W].astype(np.float32)
    smooth = np.stack([127.5 + 120 * np.sin(xs / 9), 127.5 + 120 * np.cos(ys / 7), xs * 2.5], -1)
    rgba = np.concatenate([np.rint(smooth), np.full((PLANE_H, PLANE_W, 1), 255.0)], -1).astype(np.uint8)
    fast = warp([(a, rgba)], b)
    slow = warp([(a, rgba.astype(np.float32))], b)
    carried = fast.mask == 0
    assert np.array_equal(carried, slow.mask == 0) and carried.mean() > 0.6
    assert np.abs(fast.image.astype(np.float32) - np.rint(slow.image))[carried].max() <= 1
    assert (fast.image[carried][:, 3] == 255).all()
    white = warp([(a, np.full((PLANE_H, PLANE_W, 3), 255, np.uint8))], b)
    assert (white.image[carried] == 255).all() and (white.image[~carried] == 0).all()


def test_labels_warp_nearest_without_new_values(tmp_path):
    box_scene(str(tmp_path), {"A": 0.0, "B": 0.5})
    a, b = _view(tmp_path, "A"), _view(tmp_path, "B")
    res = warp([(a, box_render(0.0)[1].astype(np.float32) + 0.25)], b, mode="nearest")
    carried = res.mask == 0
    assert np.array_equal(res.image[carried], box_render(0.5)[1][carried] + 0.25)


def test_thin_panel_back_face_is_not_carried_onto_the_front(tmp_path):
    """The back of a 2 cm panel is within the depth tolerance of its front; B's normals refuse it."""
    panel_scene(str(tmp_path))
    back, front = _view(tmp_path, "Back"), _view(tmp_path, "Front")
    assert front.normal is not None
    img = colour_image(panel_render(PANEL_BACK)[1])
    panel = panel_render(np.eye(4))[1] == 1
    assert panel.sum() > 500
    res = warp([(back, img)], front)
    assert (res.mask[panel] == 255).all()
    blind = warp([(back, img)], dataclasses.replace(front, normal=None))  # depth alone is fooled
    assert (blind.mask[panel] == 0).mean() > 0.9


# --------------------------------------------------------------------------- the sample room

ROOM_CAMS = ("Cam0", "Cam1", "Cam2")
#: measured PSNR (dB) of camera A's tone-mapped beauty warped into B against B's own, co-visible
#: pixels; Cycles at 24 samples is noisy and the table top is glossy, so the figures are modest.
ROOM_PSNR = {
    ("Cam0", "Cam1"): 21.31,
    ("Cam0", "Cam2"): 26.60,
    ("Cam1", "Cam0"): 19.82,
    ("Cam1", "Cam2"): 19.99,
    ("Cam2", "Cam0"): 26.85,
    ("Cam2", "Cam1"): 21.44,
}


@pytest.fixture(scope="module")
def room():
    cams = {n: load_multilayer(os.path.join(ROOM, f"{n}.exr")) for n in ROOM_CAMS}
    return (
        cams,
        {n: View.of(cs) for n, cs in cams.items()},
        {n: tonemap_srgb(cs.beauty) for n, cs in cams.items()},
    )


def _psnr(x, y):
    return 10 * np.log10(255.0**2 / np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2))


@pytest.mark.parametrize(("src", "dst"), sorted(ROOM_PSNR))
def test_room_beauty_warp_agrees_with_the_cameras_own(room, src, dst):
    cams, views, imgs = room
    res = warp([(views[src], imgs[src])], views[dst])
    co = res.mask == 0
    assert co.mean() > 0.15
    psnr = _psnr(res.image[co], imgs[dst][co])
    assert psnr >= ROOM_PSNR[src, dst] - 0.75
    # a control: the unwarped source image on the same pixels is far off
    assert psnr - _psnr(imgs[src][co], imgs[dst][co]) > 4  # measured 4.3 .. 15.9 dB better


def _edges(labels):
    e = np.zeros(labels.shape, bool)
    dy, dx = labels[1:] != labels[:-1], labels[:, 1:] != labels[:, :-1]
    e[1:] |= dy
    e[:-1] |= dy
    e[:, 1:] |= dx
    e[:, :-1] |= dx
    p = np.pad(e, 1)
    return np.any([p[i : i + e.shape[0], j : j + e.shape[1]] for i in range(3) for j in range(3)], axis=0)


@pytest.mark.parametrize(("src", "dst"), sorted(ROOM_PSNR))
def test_room_object_index_warp_matches(room, src, dst):
    cams, views, _ = room
    res = warp([(views[src], cams[src].object_index)], views[dst], mode="nearest")
    own = cams[dst].object_index
    sel = (res.mask == 0) & cams[dst].hit & ~_edges(own)
    assert sel.sum() > 20000
    assert np.mean(res.image[sel] == own[sel]) >= 0.995  # measured 0.9996 .. 1.0000


# --------------------------------------------------------------------------- cameras without a pose


def test_blender_exr_without_sidecar_is_a_pose_error(tmp_path):
    path = shutil.copy(os.path.join(ROOM, "Cam0.exr"), tmp_path / "Cam0.exr")
    with pytest.raises(PoseError, match="no sidecar Cam0.json") as err:
        View.of(load_multilayer(str(path)))
    assert err.value.path == str(path) and isinstance(err.value, SceneImportError)


def test_daz_canvases_are_a_pose_error(tmp_path):
    files = write_daz(str(tmp_path / "daz"), stem="shot")
    with pytest.raises(PoseError, match="Daz canvas set, which carries no camera pose") as err:
        View.of(load_daz("shot", files))
    assert err.value.path in files.values()


def test_sidecar_without_matrix_or_lens_is_a_pose_error(tmp_path):
    path = write_blender5(str(tmp_path / "Cam0.exr"))
    side = tmp_path / "Cam0.json"
    side.write_text(json.dumps({"camera": "Cam0", "resolution": [64, 48], "sensor_width_mm": 36}))
    with pytest.raises(PoseError, match="'matrix_world', 'lens_mm'") as err:
        View.of(load_multilayer(path))
    assert err.value.path == str(side)


# --------------------------------------------------------------------------- CLI


def test_cli_warp_writes_image_and_mask(tmp_path, capsys):
    box_scene(str(tmp_path / "scene"), {"A": 0.0, "B": 0.5, "C": 1.0})
    img_a = _png(tmp_path / "a.png", colour_image(np.kron(box_render(0.0)[1], np.ones((2, 2)))))
    out = tmp_path / "out"
    argv = ["warp", str(tmp_path / "scene"), "--from", "A", "--to", "B", "--image", img_a, "--out", str(out)]
    assert main(argv) == 0
    assert "B (128x96): 89.6% from A; 10.4% to paint" in capsys.readouterr().out
    got = np.asarray(Image.open(out / "B.warp.png"))
    mask = np.asarray(Image.open(out / "B.warp.mask.png"))
    assert got.shape == (96, 128, 3) and mask.shape == (96, 128) and set(np.unique(mask)) == {0, 255}
    assert np.array_equal(mask[::2, ::2] == 255, box_hidden(0.5, 0.0))
    assert (got[mask == 255] == 0).all()
    img_c = _png(tmp_path / "c.png", colour_image(box_render(1.0)[1]))
    argv += ["--from", "C", "--image", img_c]
    assert main(argv) == 0
    assert (np.asarray(Image.open(out / "B.warp.mask.png")) == 0).all()


def test_cli_warp_errors_exit_2_and_write_nothing(tmp_path, capsys):
    scene = tmp_path / "scene"
    box_scene(str(scene), {"A": 0.0, "B": 0.5})
    img = _png(tmp_path / "a.png", colour_image(box_render(0.0)[1]))
    out = tmp_path / "out"
    base = ["warp", str(scene), "--to", "B", "--out", str(out)]
    assert main([*base, "--from", "A", "--image", img, "--image", img]) == 2
    assert "one --image per --from" in capsys.readouterr().err
    assert main([*base, "--from", "Z", "--image", img]) == 2
    assert "no camera 'Z' in the scene; it has A, B" in capsys.readouterr().err
    square = _png(tmp_path / "sq.png", np.zeros((40, 40, 3), np.uint8))
    assert main([*base, "--from", "A", "--image", square]) == 2
    assert f"{square}: the image is 40x40, not the aspect of camera 'A'" in capsys.readouterr().err
    os.remove(scene / "A.json")
    assert main([*base, "--from", "A", "--image", img]) == 2
    assert "no sidecar A.json" in capsys.readouterr().err
    assert not out.exists()
    # an output that would overwrite an input is refused
    box_scene(str(scene), {"A": 0.0})
    clash = _png(scene / "B.warp.png", colour_image(box_render(0.0)[1]))
    assert main(["warp", str(scene), "--from", "A", "--to", "B", "--image", clash, "--out", str(scene)]) == 2
    assert "refusing to overwrite an input" in capsys.readouterr().err


def test_consistency_scores_consistent_images_far_above_unrelated_ones(tmp_path, capsys):
    scene = tmp_path / "scene"
    box_scene(str(scene), {"A": 0.0, "B": 0.5, "C": 1.0})
    same, noise = tmp_path / "same", tmp_path / "noise"
    same.mkdir()
    noise.mkdir()
    rng = np.random.default_rng(0)
    for name, x in (("A", 0.0), ("B", 0.5), ("C", 1.0)):
        _png(same / f"{name}.png", colour_image(box_render(x)[1]))
        _png(noise / f"{name}.png", rng.integers(0, 256, (BOX_H, BOX_W, 3), dtype=np.uint8))
    assert main(["consistency", str(scene), "--images", str(same), "--json"]) == 0
    good = json.loads(capsys.readouterr().out)
    assert [(p["a"], p["b"]) for p in good["pairs"]] == [("A", "B"), ("A", "C"), ("B", "C")]
    assert good["mean"] == {"psnr": PSNR_CAP, "mae": 0.0}
    assert all(p["covisible"] > 0.5 for p in good["pairs"])
    assert main(["consistency", str(scene), "--images", str(noise)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["pair", "covisible", "PSNR", "dB", "MAE"]
    assert table[1].startswith("A - B") and table[-1].startswith("scene mean")
    assert float(table[-1].split()[2]) < 10 and float(table[-1].split()[3]) > 60


def test_consistency_on_the_room_beauty(room, tmp_path, capsys):
    _, views, imgs = room
    score = scene_consistency(views, imgs)
    assert [(p.a, p.b) for p in score.pairs] == [("Cam0", "Cam1"), ("Cam0", "Cam2"), ("Cam1", "Cam2")]
    assert 22.0 <= score.psnr <= 23.5 and 12.5 <= score.mae <= 15.5  # measured 22.75 dB, MAE 13.93 levels
    folder = tmp_path / "imgs"
    folder.mkdir()
    _png(folder / "Cam0.png", imgs["Cam0"])
    assert main(["consistency", ROOM, "--images", str(folder)]) == 2
    assert "at least two cameras" in capsys.readouterr().err


def test_warp_on_a_loaded_camera_via_load_camera(tmp_path):
    """The API a chain builds on: warp_image returns (image, mask) from CanvasSets loaded anywhere."""
    box_scene(str(tmp_path), {"A": 0.0, "B": 0.5})
    views = {s.camera: View.of(load_camera(s)) for s in discover(str(tmp_path))}
    image, mask = warp_image([(views["A"], colour_image(box_render(0.0)[1]))], views["B"])
    assert image.dtype == np.uint8 and mask.dtype == np.uint8 and image.shape[:2] == mask.shape
