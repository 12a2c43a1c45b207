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

Axis checks (:mod:`lib_scene.normal_axes`): visible surfaces face the camera, and on a planar
patch the signs of x and y follow the planar depth's change along rows and up the image;
:func:`axis_check` measures both on sampled lines, disagreements become warnings, and
``axes="auto"`` flips exactly the axes the evidence contradicts.

Checked against Blender itself (tests/bpy_camera_normal_aov.py, Blender 5.0.1 Cycles): the world
Normal pass turned to camera space with the sidecar's ``matrix_world`` matches, to one 8-bit level,
a camera-space AOV that Blender computes with Vector Transform World -> Camera once its z is
negated (sphere centre: AOV z = -0.999): Cycles' camera z points into the scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .canvas import CanvasSet
from .errors import CanvasError
from .normal_axes import (
    AXES_PRESETS,
    CHECK_LINES,
    DAZ_AXES,
    AxisCheck,
    SampledLines,
    axis_check,
    check_lines,
    format_axes,
    parse_axes,
    sample_indices,
)
from .normal_sources import (
    NormalSource,
    SidecarArg,
    camera_normal_aovs,
    camera_rotation,
    normal_path,
    select_source,
)
from .types import F32, F64, U8, Bool, Float

__all__ = [
    "AXES_PRESETS",
    "CHECK_LINES",
    "CONVENTIONS",
    "DAZ_AXES",
    "MIN_LENGTH",
    "AxisCheck",
    "NormalMapResult",
    "NormalSource",
    "axis_check",
    "build_normal_map",
    "camera_normal_aovs",
    "camera_normals",
    "camera_rotation",
    "decode_normals",
    "encode_normals",
    "format_axes",
    "normal_map",
    "parse_axes",
    "select_source",
]

CONVENTIONS = ("bae", "midas")

#: Normals shorter than this are treated as "no normal" and filled.
MIN_LENGTH = 0.01

# --------------------------------------------------------------------------- conventions


def _check_convention(convention: str) -> str:
    conv = str(convention).strip().lower()
    if conv not in CONVENTIONS:
        raise ValueError(f"unknown normal map convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    return conv


def _encode_matrix(convention: str) -> F64:
    """3x3 E with ``rgb01 = (n_cam @ E + 1) / 2`` for the convention (rows: x, y, z)."""
    conv = _check_convention(convention)
    if conv == "bae":
        return np.array([[-1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    return np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64)  # midas: R=z, G=y, B=-x


def _apply3(src: F32, mat: F64, dst: F32, scratch: F32, scale: F32 | None = None) -> None:
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


def encode_normals(n_cam: npt.ArrayLike, convention: str = "bae") -> U8:
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


def decode_normals(rgb: npt.ArrayLike, convention: str = "bae") -> F32:
    """Inverse of :func:`encode_normals` (up to quantisation): uint8 RGB -> camera-space float32."""
    v = np.asarray(rgb, dtype=np.float32)
    flat = (v / np.float32(127.5) - np.float32(1.0)).reshape(-1, 3)
    out = np.empty(flat.shape, np.float32)
    _apply3(flat, _encode_matrix(convention).T, out, np.empty(flat.shape[0], np.float32))
    return out.reshape(v.shape)


# --------------------------------------------------------------------------- encoding

#: Pixels per block of the vectorised passes (keeps the scratch arrays in cache, no big temporaries).
_BLOCK = 1 << 17


def _fill_rgb(fill: npt.ArrayLike, e: F64) -> U8:
    try:
        f = np.array(fill, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fill must be three numbers x,y,z, got {fill!r}") from exc
    if f.shape != (3,) or not np.isfinite(f).all() or (np.abs(f) > 1.0 + 1e-6).any():
        raise ValueError(f"fill must be three numbers in -1..1 (camera x, y, z), got {fill!r}")
    return np.rint(np.clip((f @ e + 1.0) * 127.5, 0, 255)).astype(np.uint8)


def _map_pixels(
    vectors: Float,
    hit: Bool | None,
    min_len: float,
    mat: F64,
    offset: float,
    fill: U8 | F32,
    dst: U8 | F32,
    valid_dst: Bool | None = None,
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


def _check_hit(cs: CanvasSet, arr: Float) -> Bool | None:
    if arr.shape[:2] != (cs.height, cs.width) or arr.shape[-1] != 3:
        raise CanvasError(
            f"normal array has shape {arr.shape} but the canvas is {cs.width}x{cs.height}", normal_path(cs)
        )
    if cs.hit is not None and cs.hit.shape != arr.shape[:2]:
        raise CanvasError("the depth and normal canvases differ in size", normal_path(cs))
    return cs.hit


def _sample_lines(src: NormalSource, hit: Bool | None, min_len: float, h: int, w: int) -> SampledLines:
    ri, ci = sample_indices(h, CHECK_LINES), sample_indices(w, CHECK_LINES)
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
    return SampledLines(nr, ri, vr, nc, ci, vc)


def _inspect(
    cs: CanvasSet, src: NormalSource, hit: Bool | None, min_len: float
) -> tuple[NormalSource, AxisCheck]:
    """Run the axis check on sampled lines; with ``auto_axes``, flip the axes the evidence contradicts."""
    lines = _sample_lines(src, hit, min_len, cs.height, cs.width)
    chk = check_lines(lines, cs.depth, cs.depth_kind, cs.object_index)
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
        chk = check_lines(lines.flipped(sign), cs.depth, cs.depth_kind, cs.object_index)
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
    sidecar: SidecarArg = None,
    *,
    source: str = "auto",
    aov: str | None = None,
    axes: str | None = None,
    space: str | None = None,
    min_length: float = MIN_LENGTH,
    fill: npt.ArrayLike = (0.0, 0.0, 1.0),
) -> tuple[F32, Bool, NormalSource]:
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

    image: U8  # (H, W, 3)
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
    sidecar: SidecarArg = None,
    fill: npt.ArrayLike = (0.0, 0.0, 1.0),
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
    sidecar: SidecarArg = None,
    fill: npt.ArrayLike = (0.0, 0.0, 1.0),
    *,
    source: str = "auto",
    aov: str | None = None,
    axes: str | None = None,
    space: str | None = None,
    min_length: float = MIN_LENGTH,
) -> U8:
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
