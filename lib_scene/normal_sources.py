"""Which array feeds a camera's normal map, and how it becomes camera space.

The order ``source="auto"`` tries (camera-space canvas, world pass with the sidecar's camera matrix,
camera-space AOV) and the facts behind it are in :mod:`lib_scene.normals`' docstring; this module
picks the source, the axis mapping check lives in :mod:`lib_scene.normal_axes`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from .canvas import CanvasSet, load_sidecar
from .errors import CanvasError
from .normal_axes import DAZ_AXES, format_axes, parse_axes
from .types import F64, Float

#: A camera sidecar as read from its JSON file (``matrix_world``, ``resolution``...).
Sidecar: TypeAlias = Mapping[str, object]
#: What ``sidecar=`` accepts: the sidecar itself, the path of its file, or None (the canvas's own).
SidecarArg: TypeAlias = "Sidecar | str | os.PathLike[str] | None"

_AOV_NAME = re.compile(
    r"^(?:(?:cam(?:era)?|view|eye)(?:space)?n(?:ormals?)?|n(?:ormals?)?(?:cam(?:era)?|view|eye)(?:space)?)$"
)


# --------------------------------------------------------------------------- camera matrix


def camera_rotation(sidecar: Sidecar | npt.ArrayLike, path: str | os.PathLike[str] | None = None) -> F64:
    """The camera -> world rotation (3x3 float64, orthonormal, det +1) of a sidecar.

    ``sidecar`` is the sidecar dict (its ``"matrix_world"``: row-major 4x4 camera -> world,
    a Blender camera looking down local -Z with +Y up), or the matrix itself (4x4, 3x4 or 3x3).
    Scale in ``matrix_world`` (a scaled camera object) is removed by the polar decomposition
    R = U V^T of the upper-left 3x3 (exact for any positive, even non-uniform, object scale).
    A singular or mirrored (negative scale) matrix is refused. ``path`` names the sidecar file in
    errors.
    """
    where = os.fspath(path) if path is not None else None
    if isinstance(sidecar, Mapping):
        if "matrix_world" not in sidecar:
            raise CanvasError(
                'the camera sidecar has no "matrix_world" (row-major 4x4 camera-to-world matrix)', where
            )
        raw = sidecar["matrix_world"]
    else:
        raw = sidecar
    try:
        m = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CanvasError(f"matrix_world is not a numeric matrix ({exc})", where) from exc
    if m.ndim != 2 or m.shape not in ((4, 4), (3, 4), (3, 3)):
        raise CanvasError(f"matrix_world must be a 4x4 (or 3x4 / 3x3) matrix, got shape {m.shape}", where)
    if not np.isfinite(m).all():
        raise CanvasError("matrix_world holds non-finite numbers", where)
    a = m[:3, :3]
    u, s, vt = np.linalg.svd(a)
    if s[0] <= 0 or s[-1] <= 1e-9 * s[0]:
        raise CanvasError("matrix_world's rotation part is singular (zero scale?)", where)
    r: F64 = u @ vt
    if np.linalg.det(r) < 0:
        raise CanvasError(
            "matrix_world is mirrored (negative scale on the camera); un-mirror the camera and re-export",
            where,
        )
    return r


def _resolve_sidecar(cs: CanvasSet, sidecar: SidecarArg) -> tuple[Sidecar | None, str | None]:
    if sidecar is None:
        return cs.sidecar, cs.sidecar_path
    if isinstance(sidecar, (str, os.PathLike)):
        p = os.fspath(sidecar)
        return load_sidecar(p), p
    if isinstance(sidecar, Mapping):
        return sidecar, None
    raise TypeError(f"sidecar must be a dict, a path or None, not {type(sidecar).__name__}")


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class NormalSource:
    """Which array feeds the normal map and how it becomes camera space.

    ``n_cam = vectors @ transform`` (row vectors); ``transform`` is R for a world-space pass (so
    n_cam = R^T n_world) or a signed axis permutation for a camera-space one.
    """

    vectors: Float  # (H, W, 3) as stored, read-only
    transform: F64  # 3x3
    kind: str  # "Normal canvas" | "Normal pass" | "aov <name>"
    space: str  # "world" | "camera"
    axes: str | None = None  # the axis mapping used for camera-space sources
    auto_axes: bool = False  # axes still to be decided from the data
    path: str | None = None
    warnings: tuple[str, ...] = ()


def camera_normal_aovs(cs: CanvasSet) -> list[str]:
    """Names of the AOVs that look like camera-space normals (3 components, named like one)."""
    return [
        name
        for name, arr in cs.aovs.items()
        if arr.ndim == 3 and arr.shape[-1] == 3 and _AOV_NAME.match(re.sub(r"[\s_\-.]", "", name).lower())
    ]


def normal_path(cs: CanvasSet) -> str | None:
    return cs.sources.get("normal") or cs.primary_path


def select_source(
    cs: CanvasSet,
    sidecar: SidecarArg = None,
    source: str = "auto",
    aov: str | None = None,
    axes: str | None = None,
    space: str | None = None,
) -> NormalSource:
    """Pick the normal source of a camera (see the module docstring for the order).

    ``source``: ``"auto"``, ``"normal"`` (the normal canvas/pass) or ``"aov"``; ``aov`` names an
    AOV (implies ``source="aov"``); ``axes``: axis mapping for camera-space sources (``"auto"``
    allowed); ``space``: override the normal canvas's space (``"world"`` or ``"camera"``).
    """
    if source not in ("auto", "normal", "aov"):
        raise ValueError(f"unknown normal source {source!r}; use auto, normal or aov")
    if space not in (None, "world", "camera"):
        raise ValueError(f"unknown normal space {space!r}; use world or camera")
    if aov is not None:
        source = "aov"
    side, side_path = _resolve_sidecar(cs, sidecar)
    path = normal_path(cs)
    if source == "aov":
        name = _aov_name(cs, aov, path)
        return _camera_source(cs.aovs[name], f"aov {name}", axes, "auto", path)
    if cs.normal is not None and (space or cs.normal_space) == "camera":
        return _camera_source(cs.normal, "Normal canvas", axes, DAZ_AXES, path)
    if cs.normal is not None and side is not None and "matrix_world" in side:
        return _world_source(cs, cs.normal, side, side_path, path)
    if source == "auto" and camera_normal_aovs(cs):
        return select_source(cs, sidecar, "aov", None, axes, space)
    raise _no_camera_space(cs, side is not None, side_path, path)


def _camera_source(
    vectors: Float, kind: str, axes: str | None, default_axes: str, where: str | None
) -> NormalSource:
    """A camera-space source mapped with ``axes`` (or ``default_axes``); ``"auto"`` decides later."""
    spec = axes if axes is not None else default_axes
    if str(spec).strip().lower() == "auto":
        return NormalSource(vectors, np.eye(3), kind, "camera", axes="x,y,z", auto_axes=True, path=where)
    m = parse_axes(spec)
    return NormalSource(vectors, m, kind, "camera", axes=format_axes(m), path=where)


def _aov_name(cs: CanvasSet, aov: str | None, path: str | None) -> str:
    """The camera-space normal AOV to use: ``aov`` when given, else the first that looks like one."""
    names = [aov] if aov is not None else camera_normal_aovs(cs)
    if aov is not None and aov not in cs.aovs:
        have = ", ".join(sorted(cs.aovs)) or "none"
        raise CanvasError(f"camera {cs.camera!r} has no pass named {aov!r} (other passes: {have})", path)
    if not names:
        raise CanvasError(
            f"camera {cs.camera!r} has no camera-space normal AOV (a 3-channel pass named like "
            "'CameraNormal'); name one with aov=/--aov",
            path,
        )
    arr = cs.aovs[names[0]]
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise CanvasError(f"pass {names[0]!r} is not a 3-component vector pass", path)
    return names[0]


def _sidecar_resolution(side: Sidecar, cs: CanvasSet) -> tuple[int, int]:
    """The sidecar's ``resolution`` (width, height); the canvas size when it has none or a bad one."""
    res = side.get("resolution")
    if not res:
        return cs.width, cs.height
    try:
        rw, rh = (int(v) for v in np.asarray(res, dtype=np.float64).reshape(-1)[:2])
    except (TypeError, ValueError):
        return cs.width, cs.height
    return rw, rh


def _world_source(
    cs: CanvasSet, normal: Float, side: Sidecar, side_path: str | None, path: str | None
) -> NormalSource:
    """The world-space Normal pass turned to camera space with the sidecar's ``matrix_world``."""
    rot = camera_rotation(side, side_path)
    rw, rh = _sidecar_resolution(side, cs)
    warnings: tuple[str, ...] = ()
    if (rw * cs.height) != (rh * cs.width):
        warnings = (
            f"the sidecar is for a {rw}x{rh} render but the canvas is {cs.width}x{cs.height}: "
            "check that it belongs to this render",
        )
    return NormalSource(normal, rot, "Normal pass", "world", path=path, warnings=warnings)


def _no_camera_space(
    cs: CanvasSet, has_sidecar: bool, side_path: str | None, path: str | None
) -> CanvasError:
    """The error for a camera without any normal that can be turned into camera space."""
    if cs.normal is None:
        return CanvasError(
            f"camera {cs.camera!r} has no normal canvas (no Normal pass or Normal canvas)", path
        )
    if has_sidecar:
        return CanvasError(
            'the Normal pass is in world space and the camera sidecar has no "matrix_world"; add the '
            "camera's row-major 4x4 camera-to-world matrix_world to it (refusing to emit world-space "
            "normals as camera space)",
            side_path or path,
        )
    stem = os.path.splitext(os.path.basename(path))[0] if path else cs.camera
    return CanvasError(
        "the Normal pass is in world space and there is no camera matrix to turn it into camera space: "
        f"put the camera sidecar {stem}.json (with its matrix_world) next to the EXR, or pass it with "
        "the normal command's --sidecar FILE (sidecar= in Python); refusing to emit world-space normals as camera space",
        path,
    )
