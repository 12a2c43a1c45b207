"""Axis mappings of camera-space normals and the check of their axes against the depth canvas.

Camera axes: **x right, y up, z toward the viewer** (see :mod:`lib_scene.normals`).

Axis checks. For visible surfaces two facts hold whatever the scene: they face the camera
(z > 0 for nearly every pixel), and on a planar patch the sign of x equals the sign of the planar
depth's change along image rows (moving right), the sign of y that of its change moving *up* the
image (for a plane n.P = c seen from its front, c < 0 and z_p = c / (n_x u + n_y v - n_z) in image
coordinates u, v). :func:`axis_check` measures both on evenly spread sample rows and columns
(cheap on any canvas size); disagreements become warnings, and ``axes="auto"`` flips exactly the
axes the evidence contradicts (only signs; a swapped pair of channels needs an explicit ``axes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .types import F32, F64, Bool, Float, Int

#: Default axes of Daz Iray's Normal canvas. Iray documents its Normal canvas as the shading
#: normal "in camera space" and its Depth canvas as the distance "along the (negative)
#: z-coordinate in camera space" (Iray canvas docs, irayplugins.com maya-doc "Auxiliary Canvases
#: attributes"): the camera looks down -z. Taking Iray's camera frame as right-handed with y up
#: (the usual frame for a -z-looking camera; not verified on a real Daz file), x is right and z
#: points toward the viewer - the convention used here, mapped 1:1. The test set in
#: samples/room_daz was written that way. The axis check warns when a canvas contradicts this;
#: other exporters: pass ``axes`` (e.g. ``"x,-y,-z"`` for OpenCV-style x right, y down,
#: z forward) or ``"auto"``.
DAZ_AXES = "x,y,z"

#: Named axis mappings accepted by ``axes`` (right, up, toward-viewer taken from source channels).
AXES_PRESETS = {
    "opengl": "x,y,z",  # x right, y up, z toward the viewer (Iray, Blender camera-local, OpenGL view)
    "iray": "x,y,z",
    "daz": "x,y,z",
    "cycles": "x,y,-z",  # Cycles camera space (Vector Transform node): z into the scene
    "opencv": "x,-y,-z",  # x right, y down, z into the scene
}


def parse_axes(spec: str) -> F64:
    """An axis mapping -> 3x3 M with ``n_cam = n_src @ M``.

    ``spec`` names, for camera right, up and toward-viewer in turn, the source channel that holds
    it, with an optional sign: ``"x,y,z"`` (identity), ``"-x,y,z"``, ``"x,-y,-z"``, ``"x,z,-y"``.
    Channels may be written x/y/z, r/g/b or 0/1/2. Presets: see :data:`AXES_PRESETS`.
    """
    text = str(spec).strip().lower()
    text = AXES_PRESETS.get(text, text)
    terms = [t for t in re.split(r"[\s,;]+", text) if t]
    if len(terms) == 1 and re.fullmatch(r"([+-]?[xyzrgb012]){3}", terms[0]):
        terms = re.findall(r"[+-]?[xyzrgb012]", terms[0])
    chan = {"x": 0, "y": 1, "z": 2, "r": 0, "g": 1, "b": 2, "0": 0, "1": 1, "2": 2}
    bad = ValueError(
        f"axes {spec!r}: give three terms like 'x,y,z' or '-x,y,-z' (camera right, up, toward the viewer), "
        f"or one of {', '.join(sorted(AXES_PRESETS))}"
    )
    if len(terms) != 3:
        raise bad
    m = np.zeros((3, 3), dtype=np.float64)
    used: set[int] = set()
    for i, t in enumerate(terms):
        mt = re.fullmatch(r"([+-]?)([xyzrgb012])", t)
        if not mt:
            raise bad
        j = chan[mt.group(2)]
        if j in used:
            raise ValueError(f"axes {spec!r}: source channel {mt.group(2)!r} is used twice")
        used.add(j)
        m[j, i] = -1.0 if mt.group(1) == "-" else 1.0
    return m


def format_axes(m: F64) -> str:
    """3x3 signed permutation -> ``"x,-y,z"`` text (inverse of :func:`parse_axes`)."""
    out = []
    for i in range(3):
        j = int(np.argmax(np.abs(m[:, i])))
        out.append(("-" if m[j, i] < 0 else "") + "xyz"[j])
    return ",".join(out)


@dataclass(frozen=True)
class AxisCheck:
    """Evidence about the axes of camera-space normals (see the module docstring).

    ``facing``: fraction of sampled valid pixels with z > 0 (near 1 when right). ``x_agree`` /
    ``y_agree``: fraction of sampled pixels where the sign of x (y) matches the planar depth's
    change along the row (up the image); None when there was too little evidence (no planar
    depth, a flat scene). ``samples``: how many pixels each figure rests on.
    """

    facing: float | None
    x_agree: float | None
    y_agree: float | None
    samples: tuple[int, int, int] = (0, 0, 0)

    def flips(self, low: float = 0.25) -> tuple[bool, bool, bool]:
        """Which axes (x, y, z) the evidence says are flipped (strong disagreement only)."""
        return (
            self.x_agree is not None and self.x_agree < low,
            self.y_agree is not None and self.y_agree < low,
            self.facing is not None and self.facing < low,
        )

    def describe(self) -> str:
        def f(v: float | None) -> str:
            return "n/a" if v is None else f"{100 * v:.0f}%"

        return f"facing {f(self.facing)}, x/depth agree {f(self.x_agree)}, y/depth agree {f(self.y_agree)}"


_MIN_EVIDENCE = 50
#: The axis check samples this many rows and this many columns (evenly spread) of the canvas.
CHECK_LINES = 128


def sample_indices(n: int, k: int) -> NDArray[np.intp]:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.intp))


@dataclass(frozen=True)
class SampledLines:
    """Camera-space normals on sampled rows (r, W, 3) and sampled columns (H, c, 3)."""

    rows: F32
    rows_idx: NDArray[np.intp]
    rows_valid: Bool
    cols: F32
    cols_idx: NDArray[np.intp]
    cols_valid: Bool

    def flipped(self, sign: F64) -> SampledLines:
        """The same lines with the axes whose ``sign`` is -1 negated."""
        s = sign.astype(np.float32)
        return SampledLines(
            self.rows * s, self.rows_idx, self.rows_valid, self.cols * s, self.cols_idx, self.cols_valid
        )


def _agree(
    comp: F32, d0: F32, d1: F32, ok: Bool, o0: Float | Int | None, o1: Float | Int | None
) -> tuple[float | None, int]:
    """Fraction of pairs where the sign of ``comp`` equals the sign of ``d1 - d0``."""
    with np.errstate(invalid="ignore", over="ignore"):
        dd = d1 - d0
        ok = ok & (np.abs(dd) < 0.05 * np.abs(d0)) & (dd != 0)  # no depth edge between the pair
    if o0 is not None:
        ok &= o0 == o1
    ok &= np.abs(comp) > 0.2
    c, g = comp[ok], dd[ok]
    if c.size < _MIN_EVIDENCE:
        return None, int(c.size)
    return float(np.count_nonzero((c > 0) == (g > 0))) / c.size, int(c.size)


def check_lines(
    lines: SampledLines, depth: Float | None, depth_kind: str, object_index: Float | Int | None
) -> AxisCheck:
    """The :class:`AxisCheck` of normals sampled on lines (planar ``depth`` gives x and y)."""
    vr = lines.rows_valid
    n_valid = int(np.count_nonzero(vr))
    facing = (
        float(np.count_nonzero(lines.rows[..., 2][vr] > 0)) / n_valid if n_valid >= _MIN_EVIDENCE else None
    )
    x_agree: float | None = None
    y_agree: float | None = None
    nx = ny = 0
    if depth is not None and depth_kind == "planar":
        ri, ci = lines.rows_idx, lines.cols_idx
        dr = np.asarray(depth[ri], dtype=np.float32)
        dc = np.asarray(depth[:, ci], dtype=np.float32)
        orr = oc = None
        if object_index is not None:
            orr, oc = object_index[ri], object_index[:, ci]
        # x: neighbours along each sampled row (column j -> j + 1: moving right)
        x_agree, nx = _agree(
            lines.rows[:, :-1, 0],
            dr[:, :-1],
            dr[:, 1:],
            vr[:, :-1] & vr[:, 1:],
            None if orr is None else orr[:, :-1],
            None if orr is None else orr[:, 1:],
        )
        # y: neighbours along each sampled column (row i -> i - 1: moving up the image)
        vc = lines.cols_valid
        y_agree, ny = _agree(
            lines.cols[1:, :, 1],
            dc[1:],
            dc[:-1],
            vc[1:] & vc[:-1],
            None if oc is None else oc[1:],
            None if oc is None else oc[:-1],
        )
    return AxisCheck(facing=facing, x_agree=x_agree, y_agree=y_agree, samples=(n_valid, nx, ny))


def axis_check(
    n_cam: F32,
    valid: Bool,
    depth: Float | None = None,
    depth_kind: str = "planar",
    object_index: Float | Int | None = None,
    lines: int = CHECK_LINES,
) -> AxisCheck:
    """Measure whether camera-space normals (x right, y up, z toward the viewer) fit the depth.

    Sampled on ``lines`` evenly spread rows and columns, so it stays cheap on large canvases.
    Pixel pairs across a depth or object edge are skipped. Only planar depth is used for x and y.
    """
    h, w = valid.shape
    ri, ci = sample_indices(h, lines), sample_indices(w, lines)
    ln = SampledLines(n_cam[ri], ri, valid[ri], n_cam[:, ci], ci, valid[:, ci])
    return check_lines(ln, depth, depth_kind, object_index)
