"""Posed pinhole cameras from the Blender exporter's sidecar, and per-camera inverse depth.

Conventions (Blender's):

* ``matrix_world`` is the row-major 4x4 camera -> world matrix; the camera looks down its local
  -Z with +Y up and +X right. Object scale on the camera is removed (polar decomposition).
* Pixel (row i, column j) has its centre at image coordinates (u, v) = (j + 0.5, i + 0.5), v down.
  A camera-space point (x, y, z) (z < 0 in front) lands at ``u = cx + fx * x / -z``,
  ``v = cy - fy * y / -z``.
* Sensor fit (Blender's ``BKE_camera_sensor_fit`` / ``BKE_camera_params``): AUTO fits the sensor
  *width* to the larger of ``W * pixel_aspect_x`` and ``H * pixel_aspect_y``; HORIZONTAL fits
  ``sensor_width_mm`` to the image width; VERTICAL fits ``sensor_height_mm`` to the image height.
  ``shift`` is in units of the fitted dimension (the larger one for AUTO).
* Depth is the Z pass: planar distance along the view axis (checked on ``samples/room``: the
  floor unprojects to world z = 0 within 0.02 mm with planar depth in all three cameras, and is off
  by up to 1.4 m read as ray distance). Daz's "Distance" canvas (ray length) is converted to planar depth.

A camera without a pose (a Daz canvas set, a Blender EXR without its sidecar, a sidecar missing
``matrix_world`` / ``lens_mm`` / ...) raises :class:`PoseError` naming the file and what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .canvas import CanvasSet
from .errors import SceneImportError
from .normals import camera_rotation  # the one place matrix_world is validated

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

SENSOR_FITS = ("AUTO", "HORIZONTAL", "VERTICAL")
POSE_KEYS = ("matrix_world", "lens_mm", "sensor_width_mm", "resolution")


class PoseError(SceneImportError):
    """A camera has no usable pose or intrinsics (no sidecar, or a sidecar missing what a warp needs)."""


@dataclass(frozen=True)
class Camera:
    """A posed pinhole camera at one pixel grid (``width`` x ``height``)."""

    name: str
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    cam_to_world: F64  # 4x4 rigid (rotation + translation)

    @property
    def world_to_cam(self) -> F64:
        r = self.cam_to_world[:3, :3]
        t = self.cam_to_world[:3, 3]
        m = np.eye(4)
        m[:3, :3] = r.T
        m[:3, 3] = -r.T @ t
        return m

    @property
    def position(self) -> F64:
        return np.array(self.cam_to_world[:3, 3], dtype=np.float64)

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def scaled(self, width: int, height: int) -> Camera:
        """The same camera sampled on a ``width`` x ``height`` grid (the same aspect, any size)."""
        sx, sy = width / self.width, height / self.height
        return Camera(
            self.name,
            width,
            height,
            self.fx * sx,
            self.fy * sy,
            self.cx * sx,
            self.cy * sy,
            self.cam_to_world,
        )

    def ray_factors(self) -> tuple[F32, F32]:
        """Per column ``(u - cx) / fx`` (W,) and per row ``-(v - cy) / fy`` (H,) at pixel centres.

        A pixel's camera-space point at planar depth z is ``(a_j z, b_i z, -z)``.
        """
        a = ((np.arange(self.width) + 0.5 - self.cx) / self.fx).astype(np.float32)
        b = (-(np.arange(self.height) + 0.5 - self.cy) / self.fy).astype(np.float32)
        return a, b

    def project(self, world: npt.ArrayLike) -> tuple[F64, F64, F64]:
        """World points (..., 3) -> image (u, v) and planar depth (positive in front)."""
        p = np.asarray(world, dtype=np.float64)
        m = self.world_to_cam
        c = p @ m[:3, :3].T + m[:3, 3]
        z = -c[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = self.cx + self.fx * c[..., 0] / z
            v = self.cy - self.fy * c[..., 1] / z
        return u, v, z


def _number(side: Mapping[str, Any], key: str, where: str | None) -> float:
    try:
        val = float(side[key])
    except (TypeError, ValueError) as exc:
        raise PoseError(f"sidecar {key!r} is not a number ({side[key]!r})", where) from exc
    if not np.isfinite(val) or val <= 0:
        raise PoseError(f"sidecar {key!r} must be a positive number, got {val}", where)
    return val


def _pair(side: Mapping[str, Any], key: str, default: tuple[float, float], where: str | None) -> F64:
    raw = side.get(key, default)
    try:
        arr = np.asarray(raw, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise PoseError(f"sidecar {key!r} must be two numbers, got {raw!r}", where) from exc
    if arr.shape != (2,) or not np.isfinite(arr).all():
        raise PoseError(f"sidecar {key!r} must be two numbers, got {raw!r}", where)
    return arr


def _rigid(side: Mapping[str, Any], where: str | None) -> F64:
    rot = camera_rotation(side, where)
    m = np.asarray(side["matrix_world"], dtype=np.float64)
    out = np.eye(4)
    out[:3, :3] = rot
    out[:3, 3] = m[:3, 3]
    return out


def _fit(side: Mapping[str, Any], res: F64, aspect: F64, where: str | None) -> tuple[str, float]:
    """(fitted axis "x" or "y", sensor size in mm) by Blender's rules."""
    fit = str(side.get("sensor_fit", "AUTO")).upper()
    if fit not in SENSOR_FITS:
        raise PoseError(f"sensor_fit {fit!r} is not one of {', '.join(SENSOR_FITS)}", where)
    width_mm = _number(side, "sensor_width_mm", where)
    if fit == "AUTO":
        return ("x" if res[0] * aspect[0] >= res[1] * aspect[1] else "y"), width_mm
    if fit == "HORIZONTAL":
        return "x", width_mm
    if "sensor_height_mm" not in side:
        raise PoseError('sensor_fit is VERTICAL but the sidecar has no "sensor_height_mm"', where)
    return "y", _number(side, "sensor_height_mm", where)


def camera_from_sidecar(
    side: Mapping[str, Any], name: str, width: int, height: int, where: str | None = None
) -> Camera:
    """The camera of a sidecar dict, sampled on a ``width`` x ``height`` canvas.

    ``resolution`` in the sidecar sets the intrinsics; the canvas must have its aspect (any size).
    ``where`` names the sidecar file in errors.
    """
    missing = [k for k in POSE_KEYS if k not in side]
    if missing:
        raise PoseError(
            f"camera {name!r}: the sidecar has no {', '.join(repr(k) for k in missing)}; "
            "a warp needs the pose and lens the Blender exporter writes (tools/blender)",
            where,
        )
    kind = str(side.get("camera_type", "PERSP")).upper()
    if kind != "PERSP":
        raise PoseError(f"camera {name!r} is {kind}; only perspective cameras can be warped", where)
    res = _pair(side, "resolution", (0.0, 0.0), where)
    if (res <= 0).any():
        raise PoseError(f"sidecar resolution must be positive, got {res.tolist()}", where)
    if abs(res[0] / res[1] - width / height) > 1.0 / min(res[1], height):
        raise PoseError(
            f"camera {name!r}: the canvas is {width}x{height} but the sidecar's resolution is "
            f"{int(res[0])}x{int(res[1])} (another aspect)",
            where,
        )
    asp = _pair(side, "pixel_aspect", (1.0, 1.0), where)
    shift = _pair(side, "shift", (0.0, 0.0), where)
    axis, sensor = _fit(side, res, asp, where)
    lens = _number(side, "lens_mm", where)
    ycor = asp[1] / asp[0]
    viewfac = res[0] if axis == "x" else ycor * res[1]  # pixels spanned by the sensor
    fx = lens / sensor * viewfac
    cam = Camera(
        name=name,
        width=int(res[0]),
        height=int(res[1]),
        fx=float(fx),
        fy=float(fx / ycor),
        cx=float(res[0] / 2 - shift[0] * viewfac),
        cy=float(res[1] / 2 + shift[1] * viewfac / ycor),
        cam_to_world=_rigid(side, where),
    )
    return cam.scaled(width, height) if (cam.width, cam.height) != (width, height) else cam


def camera_of(cs: CanvasSet) -> Camera:
    """The posed camera of a loaded canvas set, or :class:`PoseError` saying what is missing."""
    if cs.sidecar is None:
        if cs.layout == "daz":
            problem = (
                f"camera {cs.camera!r} is a Daz canvas set, which carries no camera pose; "
                f"a warp needs a sidecar {cs.camera}.json next to it with matrix_world, lens_mm, "
                "sensor_width_mm, sensor_fit and resolution"
            )
        else:
            problem = (
                f"camera {cs.camera!r} has no pose: no sidecar {cs.camera}.json next to the EXR "
                "(the Blender exporter in tools/blender writes it with matrix_world, lens_mm, "
                "sensor_width_mm, sensor_fit and resolution)"
            )
        raise PoseError(problem, cs.primary_path)
    where = cs.sidecar_path or cs.primary_path
    return camera_from_sidecar(cs.sidecar, cs.camera, cs.width, cs.height, where)


def inverse_depth(cs: CanvasSet, cam: Camera) -> F32:
    """1 / planar depth (float32, (H, W)); exactly 0 where the renderer hit nothing.

    A "distance" (ray length) canvas is converted to planar depth first.
    """
    if cs.depth is None or cs.hit is None:
        raise PoseError(f"camera {cs.camera!r} has no depth canvas; a warp needs one", cs.primary_path)
    depth = np.asarray(cs.depth, dtype=np.float32)
    if cs.depth_kind == "distance":
        a, b = cam.ray_factors()
        depth = depth / np.sqrt(a[None, :] ** 2 + b[:, None] ** 2 + np.float32(1))
    out = np.zeros(depth.shape, np.float32)
    np.divide(np.float32(1), depth, out=out, where=np.asarray(cs.hit))
    return out


def view_direction(cam: Camera) -> F64:
    """The world direction the camera looks along (its local -Z)."""
    return np.asarray(-cam.cam_to_world[:3, 2], dtype=np.float64)


def nearest_pose_order(cameras: list[Camera], start: int = 0) -> list[int]:
    """A visiting order for a chain: from ``cameras[start]``, repeatedly the camera nearest to the
    last one visited. Distance is between positions plus, to break ties between cameras in one
    place, the angle between view directions (radians) times the mean distance between cameras."""
    n = len(cameras)
    if not 0 <= start < n:
        raise IndexError(f"start {start} is not a camera index (0..{n - 1})")
    pos = np.array([c.position for c in cameras])
    dirs = np.array([view_direction(c) for c in cameras])
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    angle = np.arccos(np.clip(dirs @ dirs.T, -1.0, 1.0))
    scale = float(dist.sum() / max(1, n * (n - 1))) or 1.0
    cost = dist + scale * angle
    order, left = [start], set(range(n)) - {start}
    while left:
        nxt = min(left, key=lambda j: (cost[order[-1], j], j))
        order.append(nxt)
        left.remove(nxt)
    return order


def source_files(cs: CanvasSet) -> list[str]:
    """The files a camera was read from (canvases and sidecar), for refusing to overwrite them."""
    files = [os.fspath(p) for p in cs.channels]
    if cs.sidecar_path:
        files.append(cs.sidecar_path)
    return files
