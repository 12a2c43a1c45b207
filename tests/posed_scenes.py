"""Posed synthetic scenes for the reprojection tests: real EXRs + sidecars with analytic depth.

Every camera is a Blender-convention pinhole (looks down its local -Z, +Y up, AUTO sensor fit on a
landscape image, so ``f = lens_mm / sensor_width_mm * W`` pixels). Its depth is ray-cast here, in
the test's own arithmetic, independent of lib_scene's camera code.

* :func:`plane_scene`: the ground plane z = 0 seen by two cameras above it.
* :func:`box_scene`: a wall at z = -10 with a box (|x|, |y| <= 1, z in [-6, -5]) in front of it, seen
  by cameras at (x, 0, 0) looking down -Z. With ``W = 64`` and ``f = 80`` a wall point moves 4 px
  and the box front 8 px per 0.5 of camera x, so every edge falls on a pixel boundary.
"""

from __future__ import annotations

import json
import os

import numpy as np

from lib_scene.exr import write_exr

SENSOR = 36.0

#: object index -> 8-bit colour of the flat-shaded synthetic objects
COLOURS = {0: (0, 0, 0), 1: (200, 40, 40), 2: (40, 160, 60), 3: (50, 60, 200)}


def rot_x(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_z(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def matrix(rot: np.ndarray, pos) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = pos
    return m


def sidecar(name: str, m: np.ndarray, lens: float, w: int, h: int) -> dict:
    return {
        "camera": name,
        "matrix_world": np.asarray(m).tolist(),
        "lens_mm": lens,
        "sensor_width_mm": SENSOR,
        "sensor_fit": "AUTO",
        "clip": [0.1, 100.0],
        "resolution": [w, h],
        "objects": {},
    }


def rays(m: np.ndarray, lens: float, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """World origin (3,) and world directions (h, w, 3) of pixel centres, camera-space z = -1."""
    f = lens / SENSOR * max(w, h)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    d = np.stack([(xs + 0.5 - w / 2) / f, -(ys + 0.5 - h / 2) / f, -np.ones_like(xs)], -1)
    return np.asarray(m)[:3, 3], d @ np.asarray(m)[:3, :3].T


def project(m: np.ndarray, lens: float, w: int, h: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image (u, v) of world points (..., 3): the pinhole formula written out."""
    f = lens / SENSOR * max(w, h)
    c = (p - np.asarray(m)[:3, 3]) @ np.asarray(m)[:3, :3]  # world -> camera: R^T (p - t)
    return w / 2 + f * c[..., 0] / -c[..., 2], h / 2 - f * c[..., 1] / -c[..., 2]


def colour_image(index: np.ndarray) -> np.ndarray:
    lut = np.zeros((256, 3), np.uint8)
    for k, c in COLOURS.items():
        lut[k] = c
    return lut[index.astype(np.int64)]


def write_camera(
    folder: str,
    name: str,
    m: np.ndarray,
    lens: float,
    depth: np.ndarray,
    index: np.ndarray,
    normal: np.ndarray | None = None,
) -> str:
    """``<name>.exr`` (Blender 5: Combined, Depth, Object Index[, world Normal]) and ``<name>.json``."""
    h, w = depth.shape
    rgb = colour_image(index).astype(np.float32) / 255
    parts = {
        "ViewLayer.Combined": {f"ViewLayer.Combined.{c}": rgb[..., i] for i, c in enumerate("RGB")},
        "ViewLayer.Depth": {"ViewLayer.Depth.Z": depth.astype(np.float32)},
        "ViewLayer.Object Index": {"ViewLayer.Object Index.X": index.astype(np.float32)},
    }
    parts["ViewLayer.Combined"]["ViewLayer.Combined.A"] = np.ones((h, w), np.float32)
    if normal is not None:
        parts["ViewLayer.Normal"] = {
            f"ViewLayer.Normal.{c}": normal[..., i].astype(np.float32) for i, c in enumerate("XYZ")
        }
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.exr")
    write_exr(path, parts)
    with open(os.path.join(folder, f"{name}.json"), "w", encoding="utf-8") as fh:
        json.dump(sidecar(name, m, lens, w, h), fh)
    return path


# --------------------------------------------------------------------------- plane

PLANE_W, PLANE_H, PLANE_LENS = 96, 64, 35.0
PLANE_A = matrix(np.eye(3), (0.0, 0.0, 5.0))
PLANE_B = matrix(rot_z(8) @ rot_x(12), (0.6, -0.4, 4.2))


def plane_depth(m: np.ndarray, lens: float = PLANE_LENS, w: int = PLANE_W, h: int = PLANE_H) -> np.ndarray:
    o, d = rays(m, lens, w, h)
    return -o[2] / d[..., 2]  # planar depth = ray parameter, as camera-space z of d is -1


def plane_scene(folder: str) -> dict[str, np.ndarray]:
    for name, m in (("A", PLANE_A), ("B", PLANE_B)):
        write_camera(folder, name, m, PLANE_LENS, plane_depth(m), np.full((PLANE_H, PLANE_W), 1.0))
    return {"A": PLANE_A, "B": PLANE_B}


def plane_homography(w: int = PLANE_W, h: int = PLANE_H) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel of B on a w x h grid, its (u, v) in A on the same grid size."""
    o, d = rays(PLANE_B, PLANE_LENS, w, h)
    p = o + d * (-o[2] / d[..., 2])[..., None]
    return project(PLANE_A, PLANE_LENS, w, h, p)


# --------------------------------------------------------------------------- box

BOX_W, BOX_H, BOX_LENS = 64, 48, 45.0  # f = 45 / 36 * 64 = 80 px


def box_render(cam_x: float) -> tuple[np.ndarray, np.ndarray]:
    """(planar depth, object index) of a camera at (cam_x, 0, 0) looking down -Z."""
    o, d = rays(matrix(np.eye(3), (cam_x, 0, 0)), BOX_LENS, BOX_W, BOX_H)
    front = (np.abs(o[0] + 5 * d[..., 0]) <= 1) & (np.abs(5 * d[..., 1]) <= 1)
    return np.where(front, 5.0, 10.0), np.where(front, 2.0, 3.0)


def box_scene(folder: str, xs: dict[str, float]) -> None:
    for name, x in xs.items():
        depth, index = box_render(x)
        write_camera(folder, name, matrix(np.eye(3), (x, 0, 0)), BOX_LENS, depth, index)


def box_hidden(target_x: float, source_x: float) -> np.ndarray:
    """Target pixels showing the wall at a point the source does not see (behind the box or out of
    its frame), from the continuous geometry."""
    _, index = box_render(target_x)
    o, d = rays(matrix(np.eye(3), (target_x, 0, 0)), BOX_LENS, BOX_W, BOX_H)
    p = o + d * 10.0
    u, v = project(matrix(np.eye(3), (source_x, 0, 0)), BOX_LENS, BOX_W, BOX_H, p)
    ray_x = source_x + (p[..., 0] - source_x) * 0.5  # the source's ray to p crosses z = -5 here
    behind = (np.abs(ray_x) <= 1) & (np.abs(p[..., 1] * 0.5) <= 1)
    outside = (u < 0) | (u > BOX_W) | (v < 0) | (v > BOX_H)
    return (index == 3) & (behind | outside)


# --------------------------------------------------------------------------- thin panel

PANEL_FRONT = matrix(np.eye(3), (0.0, 0.0, 0.0))  # looks down -Z at the panel's front (z = -5)
PANEL_BACK = matrix(np.diag([-1.0, 1.0, -1.0]), (0.0, 0.0, -10.0))  # turned round: sees the back


def panel_render(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(depth, index, world normal) of a 2 cm thin panel, |x|, |y| <= 1, z in [-5.02, -5]."""
    o, d = rays(m, BOX_LENS, BOX_W, BOX_H)
    front_face = o[2] > -5
    z = -5.0 if front_face else -5.02
    t = (z - o[2]) / d[..., 2]
    p = o + d * t[..., None]
    hit = (t > 0) & (np.abs(p[..., 0]) <= 1) & (np.abs(p[..., 1]) <= 1)
    normal = np.zeros((*t.shape, 3))
    normal[hit, 2] = 1.0 if front_face else -1.0
    return np.where(hit, t, 1e10), np.where(hit, 1.0 if front_face else 2.0, 0.0), normal


def panel_scene(folder: str) -> None:
    for name, m in (("Front", PANEL_FRONT), ("Back", PANEL_BACK)):
        depth, index, normal = panel_render(m)
        write_camera(folder, name, m, BOX_LENS, depth, index, normal)
