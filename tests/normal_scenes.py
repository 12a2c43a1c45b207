"""A synthetic orbit scene (sphere on a floor, real EXRs) and helpers shared by the normal tests."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import SAMPLES

from lib_scene.canvas import CanvasSet, load_cameras
from lib_scene.exr import write_exr

ROOM = os.path.join(SAMPLES, "room")
ROOM_DAZ = os.path.join(SAMPLES, "room_daz")
have_room = pytest.mark.skipif(
    not os.path.isfile(os.path.join(ROOM, "Cam0.exr")), reason="sample renders samples/room not present"
)
have_room_daz = pytest.mark.skipif(
    not (os.path.isfile(os.path.join(ROOM, "Cam0.exr")) and os.path.isdir(ROOM_DAZ)),
    reason="sample renders samples/room and samples/room_daz not present",
)

# --------------------------------------------------------------------------- synthetic orbit scene

SPHERE_C = np.array([0.0, 0.0, 1.0])
SPHERE_R = 1.0
BALL, FLOOR = 1, 2


def look_at(eye, target=(0.0, 0.0, 1.0), roll_deg: float = 0.0, scale=(1.0, 1.0, 1.0)) -> np.ndarray:
    """Blender camera matrix_world (camera -> world): columns right, up, back (it looks down -Z)."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    fwd = target - eye
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    a = np.radians(roll_deg)
    right, up = np.cos(a) * right + np.sin(a) * up, -np.sin(a) * right + np.cos(a) * up
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, up, -fwd, eye
    m[:3, :3] = m[:3, :3] @ np.diag(scale)  # Blender: matrix_world = T R S
    return m


def orbit_eye(azimuth_deg: float, elevation_deg: float = 35.0, dist: float = 7.0) -> np.ndarray:
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return SPHERE_C + dist * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])


def render(mw: np.ndarray, width: int = 96, height: int = 72, lens_mm: float = 35.0, sensor: float = 36.0):
    """Ray-cast the floor and the sphere: planar depth, world normals, object index (0 = nothing)."""
    rot = mw[:3, :3] / np.linalg.norm(mw[:3, :3], axis=0)
    origin = mw[:3, 3]
    f = lens_mm / sensor * width
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    d_cam = np.stack([(xs + 0.5 - width / 2) / f, -(ys + 0.5 - height / 2) / f, -np.ones_like(xs)], -1)
    d = d_cam @ rot.T  # world directions; planar depth = t since d_cam.z = -1
    oc = origin - SPHERE_C
    b = d @ oc
    a = np.einsum("...i,...i->...", d, d)
    disc = b * b - a * (oc @ oc - SPHERE_R**2)
    t_s = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / a, np.inf)
    t_s = np.where(t_s > 0, t_s, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_f = np.where(d[..., 2] < 0, -origin[2] / d[..., 2], np.inf)
    p_f = origin + t_f[..., None] * d
    t_f = np.where((np.abs(p_f[..., 0]) < 6) & (np.abs(p_f[..., 1]) < 6), t_f, np.inf)
    t = np.minimum(t_s, t_f)
    index = np.where(np.isinf(t), 0, np.where(t_s <= t_f, BALL, FLOOR))
    p = origin + np.where(np.isinf(t), 0, t)[..., None] * d
    n = np.zeros_like(p)
    n[index == BALL] = (p[index == BALL] - SPHERE_C) / SPHERE_R
    n[index == FLOOR] = [0.0, 0.0, 1.0]
    depth = np.where(index > 0, t, 1e10)
    return depth.astype(np.float32), n.astype(np.float32), index.astype(np.float32)


def write_orbit(folder, name: str, mw: np.ndarray, normals=None, sidecar_file: bool = True, **kw) -> str:
    """A Blender-5-layout EXR of the orbit scene (+ its sidecar); ``normals`` overrides the pass."""
    depth, n_world, index = render(mw, **kw)
    if normals is not None:
        n_world = normals(n_world, index)
    layer = "ViewLayer"
    parts = {
        f"{layer}.Depth": {f"{layer}.Depth.Z": depth},
        f"{layer}.Normal": {f"{layer}.Normal.{c}": n_world[..., i] for i, c in enumerate("XYZ")},
        f"{layer}.Object Index": {f"{layer}.Object Index.X": index},
    }
    path = os.path.join(str(folder), f"{name}.exr")
    write_exr(path, parts)
    if sidecar_file:
        h, w = depth.shape
        side = {
            "camera": name,
            "matrix_world": mw.tolist(),
            "lens_mm": kw.get("lens_mm", 35.0),
            "sensor_width_mm": 36.0,
            "sensor_fit": "AUTO",
            "clip": [0.1, 100.0],
            "resolution": [w, h],
            "objects": {"Ball": {"pass_index": BALL}, "Floor": {"pass_index": FLOOR}},
        }
        with open(os.path.join(str(folder), f"{name}.json"), "w", encoding="utf-8") as fh:
            json.dump(side, fh)
    return path


def load(path) -> CanvasSet:
    (cs,) = load_cameras(path)
    return cs


# --------------------------------------------------------------------------- region helpers


def sphere_parts(mask: np.ndarray) -> dict[str, np.ndarray]:
    """Masks of a round object's leftmost / rightmost / top / centre pixels, from its mask alone."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
    w, h = x1 - x0 + 1, y1 - y0 + 1
    out = {k: np.zeros_like(mask) for k in ("left", "right", "top", "centre")}
    mid = (ys > y0 + 0.25 * h) & (ys < y1 - 0.25 * h)
    out["left"][ys[mid & (xs <= x0 + 0.1 * w)], xs[mid & (xs <= x0 + 0.1 * w)]] = True
    out["right"][ys[mid & (xs >= x1 - 0.1 * w)], xs[mid & (xs >= x1 - 0.1 * w)]] = True
    top = (ys <= y0 + 0.1 * h) & (xs > x0 + 0.3 * w) & (xs < x1 - 0.3 * w)
    out["top"][ys[top], xs[top]] = True
    cen = mid & (xs > x0 + 0.4 * w) & (xs < x1 - 0.4 * w)
    out["centre"][ys[cen], xs[cen]] = True
    return out


def assert_sphere_colours(img: np.ndarray, mask: np.ndarray, where: str, centre_blue: int = 230) -> None:
    parts = sphere_parts(mask)
    for k, m in parts.items():
        assert m.sum() >= 3, f"{where}: too few {k} pixels of the sphere"
    med = {k: np.median(img[m].astype(int), axis=0) for k, m in parts.items()}
    assert med["left"][0] > 200, f"{where}: leftmost sphere pixels not strongly red: {med['left']}"
    assert med["right"][0] < 55, f"{where}: rightmost sphere pixels not weakly red: {med['right']}"
    assert med["top"][1] > 220, f"{where}: top sphere pixels not strongly green: {med['top']}"
    assert med["centre"][2] > centre_blue, f"{where}: sphere centre not strongly blue: {med['centre']}"


def assert_floor_green_blue(img: np.ndarray, mask: np.ndarray, where: str) -> None:
    px = img[mask].astype(int)
    assert px.shape[0] > 50, f"{where}: too few floor pixels"
    good = (px[:, 1] > 180) & (px[:, 2] > 135) & (np.abs(px[:, 0] - 128) <= 12)
    assert good.mean() > 0.9, f"{where}: floor not mostly green and blue: median {np.median(px, axis=0)}"


def _with_aov(tmp_path, name, aov_name, aov_of, sidecar_file):
    mw = look_at(orbit_eye(300, 40))
    path = write_orbit(tmp_path, name, mw, sidecar_file=sidecar_file)
    depth, n_world, index = render(mw)
    rot = mw[:3, :3]
    n_cam = (n_world @ rot).astype(np.float32)
    aov = np.asarray(aov_of(n_cam), dtype=np.float32)
    layer = "ViewLayer"
    parts = {
        f"{layer}.Depth": {f"{layer}.Depth.Z": depth},
        f"{layer}.Normal": {f"{layer}.Normal.{c}": n_world[..., i] for i, c in enumerate("XYZ")},
        f"{layer}.Object Index": {f"{layer}.Object Index.X": index},
        f"{layer}.{aov_name}": {f"{layer}.{aov_name}.{c}": aov[..., i] for i, c in enumerate("RGB")},
    }
    write_exr(path, parts)
    return path, mw
