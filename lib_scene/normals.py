"""Normal canvases -> ControlNet normal maps in camera space and the model's axis convention.

Camera axes used throughout: **x right, y up, z toward the viewer** (a right-handed frame; the
camera looks down -z). These are exactly a Blender camera's local axes (it looks down local -Z
with local +Y up) and Iray's camera space (depth is measured "along the (negative) z-coordinate in
camera space", Iray canvas docs).

Encodings (8-bit, ``round(clip(v, 0, 1) * 255)``):

* ``bae`` (ControlNet 1.1 ``control_v11p_sd15_normalbae``, preprocessor ``normal_bae``)::

      R = (1 - x) / 2      G = (1 + y) / 2      B = (1 + z) / 2

  red = the surface faces left, green = up, blue = toward the camera; a wall facing the camera
  is (128, 128, 255).
* ``midas`` (ControlNet 1.0 ``control_sd15_normal``, preprocessor ``normal_midas``): the same map
  with R and B swapped: R = (1 + z) / 2, G = (1 + y) / 2, B = (1 - x) / 2.

Where these facts come from (read, not copied; Mikubill/sd-webui-controlnet at tag v1.1.455,
commit 67271170):

* ``annotator/normalbae/__init__.py`` lines 71-79: the Bae network's 3 output channels go to
  R, G, B unchanged: ``normal = ((normal + 1) * 0.5).clip(0, 1)`` then
  ``(normal * 255.0).clip(0, 255).astype(np.uint8)``. There is no axis flip or channel swap, so
  the map is whatever frame the network was trained in. ControlNet-v1-1-nightly README (lines
  111-113) says the normalbae model accepts rendered normal maps "as long as the normal map
  follows ScanNet's protocol", pointing at baegwangbin/surface_normal_uncertainty
  ``figs/readme_scannet.png``. Measured on that figure (7x7 means): the wall on the left of the
  first row, facing right, is (45, 131, 160) - low red; floors and table tops, facing up, have
  G 201-244; the desk front in the third row, facing left and toward the camera, is
  (212, 97, 219) - high red and blue. So channel 0 grows toward *left*-facing, channel 1
  toward up-facing, channel 2 toward camera-facing surfaces: R = (1 - x)/2 with x = right, as
  the issue states. (Its training loader, ``data/dataloader_nyu.py`` lines 98-101, decodes the
  PNGs as ``rgb / 255 * 2 - 1`` and negates channel 0 on a horizontal flip, confirming channel 0
  is the horizontal axis.)
* ``annotator/midas/__init__.py`` lines 40-47: x = Sobel of MiDaS disparity along columns,
  y = Sobel along rows (image rows run down), z = a constant ``a > 0``; the stacked (x, y, z) is
  scaled ``* 127.5 + 127.5`` and reversed with ``[:, :, ::-1]`` (so R = z, G = y, B = x).
  Disparity grows toward the viewer, so a left-facing surface has x > 0 (B high) and an
  up-facing one (a floor: nearer further down the image) has y > 0 (G high): R = toward,
  G = up, B = left - the bae map with R and B swapped, as the issue states.
* One difference: ControlNet truncates (``astype(np.uint8)``), so its own maps put 0.0 at 127;
  we round as the issue asks (0.0 -> 128, a camera-facing wall -> (128, 128, 255)). The one-level
  offset is far below what the models resolve.

Sources, in the order ``source="auto"`` tries them:

1. A **camera-space** normal canvas (Daz Iray's Normal canvas; ``CanvasSet.normal_space ==
   "camera"``), mapped with ``axes`` (default ``"x,y,z"``, see :data:`DAZ_AXES`).
2. A **world-space** normal pass (Blender's Normal pass) turned into camera space with the
   camera's rotation: ``n_cam = R^T n_world`` where R is the orthonormalised upper-left 3x3 of the
   sidecar's row-major camera->world ``matrix_world``.
3. A camera-space normal **AOV** (a pass named like ``CameraNormal``, ``NormalCamera``,
   ``ViewNormal``, ``N_cam``...), or the one named by ``aov=``. Its axes default to ``"auto"``:
   Cycles' Vector Transform node uses Cycles' camera space, whose z points *into* the scene
   (Cycles ``blender_camera_matrix`` applies ``transform_scale(1, 1, -1)``), while OpenGL-style
   view space has z toward the viewer; ``"auto"`` tells them apart from the data (see below).
4. A world-space pass without a camera matrix is an error that says to supply the sidecar; world
   space is never emitted as if it were camera space.

Pixels that hit nothing (``cs.hit`` False), and normals shorter than ``min_length`` (Cycles
averages normals over samples, so anti-aliased edges are shorter than unit, down to zero) or not
finite, get ``fill`` (a camera-space vector, default (0, 0, 1): facing the camera). All others are
renormalised to unit length.

Axis checks. For visible surfaces two facts hold whatever the scene: they face the camera
(z > 0 for nearly every pixel), and on a planar patch the sign of x equals the sign of the planar
depth's change along image rows (moving right), the sign of y that of its change moving *up* the
image (for a plane n.P = c seen from its front, c < 0 and z_p = c / (n_x u + n_y v - n_z) in image
coordinates u, v). :func:`axis_check` measures both on evenly spread sample rows and columns
(cheap on any canvas size); disagreements become warnings, and ``axes="auto"`` flips exactly the
axes the evidence contradicts (only signs; a swapped pair of channels needs an explicit ``axes``).

Checked against Blender itself (tests/bpy_camera_normal_aov.py, Blender 5.0.1 Cycles): the world
Normal pass turned to camera space with the sidecar's ``matrix_world`` matches, to one 8-bit level,
a camera-space AOV that Blender computes with Vector Transform World -> Camera once its z is
negated (sphere centre: AOV z = -0.999): Cycles' camera z points into the scene.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from .canvas import CanvasSet, load_sidecar
from .errors import CanvasError

CONVENTIONS = ("bae", "midas")

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

#: Normals shorter than this are treated as "no normal" and filled.
MIN_LENGTH = 0.01

_AOV_NAME = re.compile(
    r"^(?:(?:cam(?:era)?|view|eye)(?:space)?n(?:ormals?)?|n(?:ormals?)?(?:cam(?:era)?|view|eye)(?:space)?)$"
)


# --------------------------------------------------------------------------- conventions


def _check_convention(convention: str) -> str:
    conv = str(convention).strip().lower()
    if conv not in CONVENTIONS:
        raise ValueError(f"unknown normal map convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    return conv


def _encode_matrix(convention: str) -> np.ndarray:
    """3x3 E with ``rgb01 = (n_cam @ E + 1) / 2`` for the convention (rows: x, y, z)."""
    conv = _check_convention(convention)
    if conv == "bae":
        return np.array([[-1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    return np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64)  # midas: R=z, G=y, B=-x


def _apply3(src: np.ndarray, mat: np.ndarray, dst: np.ndarray, scratch: np.ndarray, scale=None) -> None:
    """``dst = (src @ mat) * scale[:, None]`` for (n, 3) float32 arrays, column by column.

    Nine strided multiply-adds (zero coefficients skipped, so axis permutations cost three). Not
    ``np.matmul``: OpenBLAS threads a (n, 3) x (3, 3) product and, interleaved with other work on
    a busy machine, each call waited milliseconds for its threads (measured 80-450 ms per
    1200x1200 canvas against about 15 ms for this loop).
    """
    for j in range(3):
        dj = dst[:, j]
        terms = [(i, float(mat[i, j])) for i in range(3) if mat[i, j] != 0]
        if not terms:
            dj[...] = 0
            continue
        i0, c0 = terms[0]
        np.multiply(src[:, i0], np.float32(c0), out=dj)
        for i, c in terms[1:]:
            np.multiply(src[:, i], np.float32(c), out=scratch)
            dj += scratch
        if scale is not None:
            dj *= scale


def encode_normals(n_cam: np.ndarray, convention: str = "bae") -> np.ndarray:
    """Encode camera-space normals (..., 3) (x right, y up, z toward the viewer) as uint8 RGB.

    ``bae``: R = (1 - x)/2, G = (1 + y)/2, B = (1 + z)/2; ``midas``: R and B swapped. Values are
    rounded and clipped to 0..255; NaN components encode as 128. The vectors are encoded as given
    (no renormalisation).
    """
    n = np.asarray(n_cam)
    if n.shape[-1:] != (3,):
        raise ValueError(f"normals must have 3 components in the last axis, got shape {n.shape}")
    flat = np.ascontiguousarray(n, dtype=np.float32).reshape(-1, 3)
    out = np.empty(flat.shape, np.float32)
    _apply3(flat, _encode_matrix(convention) * 127.5, out, np.empty(flat.shape[0], np.float32))
    out += np.float32(127.5)
    np.rint(out, out=out)
    np.clip(out, 0, 255, out=out)
    out = np.nan_to_num(out, copy=False, nan=128.0)
    return out.astype(np.uint8).reshape(n.shape)


def decode_normals(rgb: np.ndarray, convention: str = "bae") -> np.ndarray:
    """Inverse of :func:`encode_normals` (up to quantisation): uint8 RGB -> camera-space float32."""
    v = np.asarray(rgb, dtype=np.float32)
    flat = (v / np.float32(127.5) - np.float32(1.0)).reshape(-1, 3)
    out = np.empty(flat.shape, np.float32)
    _apply3(flat, _encode_matrix(convention).T, out, np.empty(flat.shape[0], np.float32))
    return out.reshape(v.shape)


# --------------------------------------------------------------------------- camera matrix


def camera_rotation(sidecar, path: str | os.PathLike | None = None) -> np.ndarray:
    """The camera -> world rotation (3x3 float64, orthonormal, det +1) of a sidecar.

    ``sidecar`` is the sidecar dict (its ``"matrix_world"``: row-major 4x4 camera -> world,
    a Blender camera looking down local -Z with +Y up), or the matrix itself (4x4, 3x4 or 3x3).
    Scale in ``matrix_world`` (a scaled camera object) is removed by the polar decomposition
    R = U V^T of the upper-left 3x3 (exact for any positive, even non-uniform, object scale).
    A singular or mirrored (negative scale) matrix is refused. ``path`` names the sidecar file in
    errors.
    """
    where = os.fspath(path) if path is not None else None
    if isinstance(sidecar, dict):
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
    r = u @ vt
    if np.linalg.det(r) < 0:
        raise CanvasError(
            "matrix_world is mirrored (negative scale on the camera); un-mirror the camera and re-export",
            where,
        )
    return r


def _resolve_sidecar(cs: CanvasSet, sidecar) -> tuple[dict | None, str | None]:
    if sidecar is None:
        return cs.sidecar, cs.sidecar_path
    if isinstance(sidecar, (str, os.PathLike)):
        p = os.fspath(sidecar)
        return load_sidecar(p), p
    if isinstance(sidecar, dict):
        return sidecar, None
    raise TypeError(f"sidecar must be a dict, a path or None, not {type(sidecar).__name__}")


# --------------------------------------------------------------------------- axes


def parse_axes(spec: str) -> np.ndarray:
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
    used = set()
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


def format_axes(m: np.ndarray) -> str:
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
        def f(v):
            return "n/a" if v is None else f"{100 * v:.0f}%"

        return f"facing {f(self.facing)}, x/depth agree {f(self.x_agree)}, y/depth agree {f(self.y_agree)}"


_MIN_EVIDENCE = 50
#: The axis check samples this many rows and this many columns (evenly spread) of the canvas.
CHECK_LINES = 128


def _lines(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.intp))


@dataclass(frozen=True)
class _Lines:
    """Camera-space normals on sampled rows (r, W, 3) and sampled columns (H, c, 3)."""

    rows: np.ndarray
    rows_idx: np.ndarray
    rows_valid: np.ndarray
    cols: np.ndarray
    cols_idx: np.ndarray
    cols_valid: np.ndarray

    def flipped(self, sign: np.ndarray) -> _Lines:
        s = sign.astype(np.float32)
        return _Lines(
            self.rows * s, self.rows_idx, self.rows_valid, self.cols * s, self.cols_idx, self.cols_valid
        )


def _agree(comp, d0, d1, ok, o0, o1):
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


def _check_lines(lines: _Lines, depth, depth_kind: str, object_index) -> AxisCheck:
    vr = lines.rows_valid
    n_valid = int(np.count_nonzero(vr))
    facing = (
        float(np.count_nonzero(lines.rows[..., 2][vr] > 0)) / n_valid if n_valid >= _MIN_EVIDENCE else None
    )
    x_agree = y_agree = None
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
    n_cam: np.ndarray,
    valid: np.ndarray,
    depth: np.ndarray | None = None,
    depth_kind: str = "planar",
    object_index: np.ndarray | None = None,
    lines: int = CHECK_LINES,
) -> AxisCheck:
    """Measure whether camera-space normals (x right, y up, z toward the viewer) fit the depth.

    Sampled on ``lines`` evenly spread rows and columns, so it stays cheap on large canvases.
    Pixel pairs across a depth or object edge are skipped. Only planar depth is used for x and y.
    """
    h, w = valid.shape
    ri, ci = _lines(h, lines), _lines(w, lines)
    ln = _Lines(n_cam[ri], ri, valid[ri], n_cam[:, ci], ci, valid[:, ci])
    return _check_lines(ln, depth, depth_kind, object_index)


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class NormalSource:
    """Which array feeds the normal map and how it becomes camera space.

    ``n_cam = vectors @ transform`` (row vectors); ``transform`` is R for a world-space pass (so
    n_cam = R^T n_world) or a signed axis permutation for a camera-space one.
    """

    vectors: np.ndarray  # (H, W, 3) as stored, read-only
    transform: np.ndarray  # 3x3 float64
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


def _normal_path(cs: CanvasSet) -> str | None:
    return cs.sources.get("normal") or cs.primary_path


def select_source(
    cs: CanvasSet,
    sidecar=None,
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
    path = _normal_path(cs)
    warnings: list[str] = []

    def camera_source(vectors, kind, default_axes, where):
        spec = axes if axes is not None else default_axes
        if str(spec).strip().lower() == "auto":
            return NormalSource(
                vectors, np.eye(3), kind, "camera", axes="x,y,z", auto_axes=True, path=where, warnings=()
            )
        m = parse_axes(spec)
        return NormalSource(
            vectors, m, kind, "camera", axes=format_axes(m), path=where, warnings=tuple(warnings)
        )

    if source == "aov":
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
        return camera_source(arr, f"aov {names[0]}", "auto", path)

    normal_space = space or cs.normal_space
    if cs.normal is not None and normal_space == "camera":
        return camera_source(cs.normal, "Normal canvas", DAZ_AXES, path)

    rot = None
    if cs.normal is not None and side is not None and "matrix_world" in side:
        rot = camera_rotation(side, side_path)
        res = side.get("resolution")
        try:
            rw, rh = (int(res[0]), int(res[1])) if res else (cs.width, cs.height)
        except (TypeError, ValueError, IndexError):
            rw, rh = cs.width, cs.height
        if (rw * cs.height) != (rh * cs.width):
            warnings.append(
                f"the sidecar is for a {rw}x{rh} render but the canvas is {cs.width}x{cs.height}: "
                "check that it belongs to this render"
            )
        return NormalSource(cs.normal, rot, "Normal pass", "world", path=path, warnings=tuple(warnings))

    if source == "auto" and camera_normal_aovs(cs):
        return select_source(cs, sidecar, "aov", None, axes, space)

    if cs.normal is None:
        raise CanvasError(
            f"camera {cs.camera!r} has no normal canvas (no Normal pass or Normal canvas)", path
        )
    stem = os.path.splitext(os.path.basename(path))[0] if path else cs.camera
    if side is not None:
        raise CanvasError(
            'the Normal pass is in world space and the camera sidecar has no "matrix_world"; add the '
            "camera's row-major 4x4 camera-to-world matrix_world to it (refusing to emit world-space "
            "normals as camera space)",
            side_path or path,
        )
    raise CanvasError(
        "the Normal pass is in world space and there is no camera matrix to turn it into camera space: "
        f"put the camera sidecar {stem}.json (with its matrix_world) next to the EXR, or pass it with "
        "--sidecar FILE (sidecar= in Python); refusing to emit world-space normals as camera space",
        path,
    )


# --------------------------------------------------------------------------- encoding

#: Pixels per block of the vectorised passes (keeps the scratch arrays in cache, no big temporaries).
_BLOCK = 1 << 17


def _fill_rgb(fill, e: np.ndarray) -> np.ndarray:
    try:
        f = np.array(fill, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fill must be three numbers x,y,z, got {fill!r}") from exc
    if f.shape != (3,) or not np.isfinite(f).all() or (np.abs(f) > 1.0 + 1e-6).any():
        raise ValueError(f"fill must be three numbers in -1..1 (camera x, y, z), got {fill!r}")
    return np.rint(np.clip((f @ e + 1.0) * 127.5, 0, 255)).astype(np.uint8)


def _map_pixels(
    vectors: np.ndarray,
    hit: np.ndarray | None,
    min_len: float,
    mat: np.ndarray,
    offset: float,
    fill: np.ndarray,
    dst: np.ndarray,
    valid_dst: np.ndarray | None = None,
    rounding: bool = False,
) -> int:
    """``dst[i] = unit(vectors[i]) @ mat + offset`` (rounded and clipped to 0..255 with
    ``rounding``), ``fill`` where the pixel has no usable normal (no hit, shorter than
    ``min_len``, not finite). Block by block with reused scratch arrays. Returns the usable count.
    """
    v = vectors.reshape(-1, 3)
    hf = hit.reshape(-1) if hit is not None else None
    n = v.shape[0]
    bs = max(1, min(n, _BLOCK))
    sq = np.empty(bs, np.float32)
    scratch = np.empty(bs, np.float32)
    valid = np.empty(bs, bool)
    tmp = np.empty(bs, bool)
    out = np.empty((bs, 3), np.float32)
    mat = np.asarray(mat, dtype=np.float64)
    min2 = np.float32(max(min_len * min_len, 1e-30))
    usable = 0
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for a in range(0, n, bs):
            b = min(n, a + bs)
            k = b - a
            blk = v[a:b]
            if blk.dtype != np.float32:
                blk = blk.astype(np.float32)
            s, x, va, tm, o = sq[:k], scratch[:k], valid[:k], tmp[:k], out[:k]
            # squared length, column by column (einsum over a 3-long axis is several times slower)
            np.multiply(blk[:, 0], blk[:, 0], out=s)
            np.multiply(blk[:, 1], blk[:, 1], out=x)
            s += x
            np.multiply(blk[:, 2], blk[:, 2], out=x)
            s += x
            np.greater_equal(s, min2, out=va)  # NaN compares False
            np.isfinite(s, out=tm)
            va &= tm
            if hf is not None:
                va &= hf[a:b]
            np.fmax(s, min2, out=s)  # NaN -> min2
            np.sqrt(s, out=s)
            np.divide(np.float32(1.0), s, out=s)
            _apply3(blk, mat, o, x, scale=s)
            if offset:
                o += np.float32(offset)
            if rounding:
                np.rint(o, out=o)
                np.clip(o, 0, 255, out=o)
            d = dst[a:b]
            np.copyto(d, o, casting="unsafe")
            np.logical_not(va, out=tm)
            bad = np.flatnonzero(tm)
            if bad.size:
                d[bad] = fill
            if valid_dst is not None:
                valid_dst[a:b] = va
            usable += k - bad.size
    return usable


def _check_hit(cs: CanvasSet, arr: np.ndarray) -> np.ndarray | None:
    if arr.shape[:2] != (cs.height, cs.width) or arr.shape[-1] != 3:
        raise CanvasError(
            f"normal array has shape {arr.shape} but the canvas is {cs.width}x{cs.height}", _normal_path(cs)
        )
    if cs.hit is not None and cs.hit.shape != arr.shape[:2]:
        raise CanvasError("the depth and normal canvases differ in size", _normal_path(cs))
    return cs.hit


def _sample_lines(src: NormalSource, hit, min_len: float, h: int, w: int) -> _Lines:
    ri, ci = _lines(h, CHECK_LINES), _lines(w, CHECK_LINES)
    out = []
    for vec, hh in (
        (src.vectors[ri], None if hit is None else hit[ri]),
        (src.vectors[:, ci], None if hit is None else hit[:, ci]),
    ):
        n = np.empty(vec.shape, np.float32)
        val = np.empty(vec.shape[:2], bool)
        _map_pixels(
            np.ascontiguousarray(vec),
            None if hh is None else np.ascontiguousarray(hh),
            min_len,
            src.transform,
            0.0,
            np.zeros(3, np.float32),
            n.reshape(-1, 3),
            val.reshape(-1),
        )
        out.append((n, val))
    (nr, vr), (nc, vc) = out
    return _Lines(nr, ri, vr, nc, ci, vc)


def _inspect(cs: CanvasSet, src: NormalSource, hit, min_len: float) -> tuple[NormalSource, AxisCheck]:
    """Run the axis check on sampled lines; with ``auto_axes``, flip the axes the evidence contradicts."""
    lines = _sample_lines(src, hit, min_len, cs.height, cs.width)
    chk = _check_lines(lines, cs.depth, cs.depth_kind, cs.object_index)
    if not src.auto_axes:
        return src, chk
    flips = chk.flips()
    sign = np.array([-1.0 if f else 1.0 for f in flips])
    m = src.transform * sign[None, :]
    notes = list(src.warnings)
    if any(flips):
        notes.append(
            f"{src.kind}: axes decided from the data as {format_axes(m)} ({chk.describe()} as stored)"
        )
        chk = _check_lines(lines.flipped(sign), cs.depth, cs.depth_kind, cs.object_index)
    undecided = [a for a, v in zip("xy", (chk.x_agree, chk.y_agree), strict=True) if v is None]
    if undecided:
        notes.append(
            f"{src.kind}: too little depth evidence to decide the sign of {' and '.join(undecided)}; "
            "kept as stored (pass axes= / --axes to set it)"
        )
    new = NormalSource(
        src.vectors,
        m,
        src.kind,
        src.space,
        axes=format_axes(m),
        auto_axes=False,
        path=src.path,
        warnings=tuple(notes),
    )
    return new, chk


def _check_warnings(src: NormalSource, chk: AxisCheck) -> list[str]:
    out = []
    fx, fy, fz = chk.flips()
    what = (
        "the camera matrix in the sidecar may belong to another camera or render"
        if src.space == "world"
        else f"the {src.kind}'s axes may differ from {src.axes} (pass axes= / --axes, or 'auto')"
    )
    if fz:
        out.append(
            f"most normals face away from the camera after conversion ({100 * (chk.facing or 0):.0f}% facing): {what}"
        )
    if fx or fy:
        axes_txt = " and ".join(a for a, f in zip("xy", (fx, fy), strict=True) if f)
        out.append(f"the {axes_txt} component disagrees with the depth canvas ({chk.describe()}): {what}")
    return out


def camera_normals(
    cs: CanvasSet,
    sidecar=None,
    *,
    source: str = "auto",
    aov: str | None = None,
    axes: str | None = None,
    space: str | None = None,
    min_length: float = MIN_LENGTH,
    fill=(0.0, 0.0, 1.0),
) -> tuple[np.ndarray, np.ndarray, NormalSource]:
    """Unit camera-space normals (H, W, 3) float32 (x right, y up, z toward the viewer), the mask
    of pixels that had a usable normal, and the source used. Unusable pixels hold ``fill``.

    With ``axes="auto"`` the returned source carries the axes decided from the data.
    """
    _fill_rgb(fill, np.eye(3))  # validates
    src = select_source(cs, sidecar, source, aov, axes, space)
    hit = _check_hit(cs, src.vectors)
    if src.auto_axes:
        src, _ = _inspect(cs, src, hit, min_length)
    h, w = cs.height, cs.width
    n_cam = np.empty((h, w, 3), np.float32)
    valid = np.empty((h, w), bool)
    _map_pixels(
        src.vectors,
        hit,
        min_length,
        src.transform,
        0.0,
        np.asarray(fill, np.float32),
        n_cam.reshape(-1, 3),
        valid.reshape(-1),
    )
    return n_cam, valid, src


@dataclass(frozen=True)
class NormalMapResult:
    """A normal map and how it was made."""

    image: np.ndarray  # (H, W, 3) uint8
    convention: str
    source: NormalSource
    valid_fraction: float
    check: AxisCheck | None = None
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        s = self.source
        axes = f", axes {s.axes}" if s.axes else ""
        return (
            f"{self.convention} normal map from the {s.space}-space {s.kind}{axes}; "
            f"{100 * self.valid_fraction:.1f}% of pixels carry a normal"
        )


def build_normal_map(
    cs: CanvasSet,
    convention: str = "bae",
    sidecar=None,
    fill=(0.0, 0.0, 1.0),
    *,
    source: str = "auto",
    aov: str | None = None,
    axes: str | None = None,
    space: str | None = None,
    min_length: float = MIN_LENGTH,
    check: bool = True,
) -> NormalMapResult:
    """The ControlNet normal map of one camera plus its provenance, axis check and warnings.

    See :func:`normal_map` for the arguments. ``check`` runs the axis check on sampled lines
    (cheap; it only ever warns, except with ``axes="auto"``, which needs it and runs it anyway).
    """
    conv = _check_convention(convention)
    e = _encode_matrix(conv)
    fill_rgb = _fill_rgb(fill, e)
    if not (min_length >= 0):
        raise ValueError(f"min_length must be >= 0, got {min_length!r}")
    src = select_source(cs, sidecar, source, aov, axes, space)
    hit = _check_hit(cs, src.vectors)
    chk = None
    if src.auto_axes or check:
        src, chk = _inspect(cs, src, hit, min_length)
    warnings = list(src.warnings) + (_check_warnings(src, chk) if chk is not None else [])
    h, w = cs.height, cs.width
    image = np.empty((h, w, 3), np.uint8)
    usable = _map_pixels(
        src.vectors,
        hit,
        min_length,
        src.transform @ e * 127.5,
        127.5,
        fill_rgb,
        image.reshape(-1, 3),
        rounding=True,
    )
    return NormalMapResult(
        image=image,
        convention=conv,
        source=src,
        valid_fraction=usable / (h * w),
        check=chk,
        warnings=warnings,
    )


def normal_map(
    cs: CanvasSet,
    convention: str = "bae",
    sidecar=None,
    fill=(0.0, 0.0, 1.0),
    *,
    source: str = "auto",
    aov: str | None = None,
    axes: str | None = None,
    space: str | None = None,
    min_length: float = MIN_LENGTH,
) -> np.ndarray:
    """The ControlNet normal map of one camera: (H, W, 3) uint8 RGB, exactly the canvas size.

    ``convention``: ``"bae"`` (ControlNet 1.1 normalbae, default) or ``"midas"`` (1.0).
    ``sidecar``: the camera sidecar (dict or path) for a world-space pass; default ``cs.sidecar``.
    ``fill``: camera-space vector for pixels without a normal (default facing the camera ->
    (128, 128, 255) in bae). ``source`` / ``aov`` / ``axes`` / ``space``: see :func:`select_source`.
    ``min_length``: shorter normals count as missing. Raises :class:`CanvasError` for a
    world-space pass without a camera matrix.
    """
    return build_normal_map(
        cs,
        convention,
        sidecar,
        fill,
        source=source,
        aov=aov,
        axes=axes,
        space=space,
        min_length=min_length,
        check=False,
    ).image
