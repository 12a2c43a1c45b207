"""Reprojection of one camera's image into another with render depth and sidecar poses.

**B's own depth decides what B sees** (a backward lookup). For every pixel of the target camera B:

1. its surface point comes from B's planar depth (a pixel B rendered as no hit is a point at
   infinity: a direction, which only a no-hit pixel of A can match);
2. the point is projected into source camera A, giving (u, v) and its planar depth seen from A;
3. A's inverse depth is read around (u, v) (the 2x2 bilinear footprint). When the four samples lie
   on one surface (their spread is within ``tol``) the footprint is *continuous*: A's inverse depth
   is interpolated there (exact on planes, where 1/z is affine in the image) and the pixel is
   carried when it agrees with the point's own within the relative tolerance ``tol``; the image is
   then sampled bilinearly. When the footprint straddles a depth edge, nothing is blended: the
   nearest sample stands for the area around (u, v); the pixel takes it when its depth agrees and
   is rejected otherwise. ``mode="nearest"`` (labels, object index) always takes the nearest sample.
4. When B has a world Normal pass, a point whose surface is turned away from A is refused too: A
   saw the back of that surface (a thin panel's back lies within any depth tolerance of its front).
5. Anything that fails (behind A, outside A's frame, hidden from A behind something else) is not
   carried: black in the image, 255 in the mask.

Being a lookup from every B pixel, a continuous surface gets no holes from sampling gaps. Several
sources accumulate in the order given: each B pixel takes the first source that saw its surface
(B's depth already picks the nearest surface, so this is the z-buffer). Images of any size with
their camera's aspect are accepted: depth and intrinsics are resampled to the image's grid
(edge-aware, :meth:`View.resized`), and the target is computed on the output grid.

Pure numpy, vectorised: no per-pixel Python loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from .camera import Camera, camera_of, inverse_depth
from .canvas import CanvasSet
from .errors import SceneImportError
from .imaging import resize_nearest

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Image = npt.NDArray[Any]

#: Relative depth tolerance: a B point is the one A saw when A's depth there is within 1 %.
DEFAULT_TOL = 0.01
MODES = ("bilinear", "nearest")


class WarpError(SceneImportError):
    """An image cannot be warped (wrong aspect, wrong shape, nothing to warp from)."""


@dataclass(frozen=True)
class View:
    """A posed camera with its inverse planar depth on the camera's grid (0 = no hit) and, when the
    render has a world-space Normal pass, the normals in this camera's frame ((H, W, 3), zero where
    unknown). Normals let a warp refuse a surface whose back the source saw (a thin panel)."""

    camera: Camera
    inv_depth: F32
    normal: F32 | None = None

    @classmethod
    def of(cls, cs: CanvasSet) -> View:
        """The view of a loaded canvas set; :class:`~lib_scene.camera.PoseError` without a pose."""
        cam = camera_of(cs)
        return cls(cam, inverse_depth(cs, cam), _camera_normals(cs, cam))

    @property
    def name(self) -> str:
        return self.camera.name

    @cached_property
    def padded_inv(self) -> F32:
        """Inverse depth padded by one edge pixel, flattened (the warp's lookup table)."""
        return np.asarray(_pad(self.inv_depth).reshape(-1), dtype=np.float32)

    def resized(self, width: int, height: int, tol: float = DEFAULT_TOL) -> View:
        """The view on a ``width`` x ``height`` grid of the same aspect. Inverse depth is interpolated
        bilinearly where its 2x2 footprint is one surface (exact on planes), else taken nearest;
        normals are taken nearest."""
        if (width, height) == (self.camera.width, self.camera.height):
            return self
        normal = None if self.normal is None else resize_nearest(self.normal, width, height)
        return View(
            self.camera.scaled(width, height), _resample_inv(self.inv_depth, width, height, tol), normal
        )


def _camera_normals(cs: CanvasSet, cam: Camera) -> F32 | None:
    """World Normal pass -> this camera's frame; pixels with a normal shorter than 0.5 (averaged
    across an edge) get a zero vector, which the facing test lets pass."""
    if cs.normal is None or cs.normal_space != "world":
        return None
    n = np.asarray(cs.normal, dtype=np.float32) @ cam.cam_to_world[:3, :3].astype(np.float32)
    length = np.sqrt(np.einsum("...i,...i->...", n, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where((length >= 0.5)[..., None], n / length[..., None], np.float32(0))
    return np.ascontiguousarray(unit, dtype=np.float32)


def _facing(normal: F32 | None, e: F32, av: F32, bv: F32, q: F32) -> npt.NDArray[np.bool_] | None:
    """Whether each target surface point faces the source camera (None without normals).

    With the target's camera-frame normal n, the point p = (a, b, -1) / q and the source's position
    e in the target's frame, the point faces the source when n . (e - p) >= 0, i.e. (times q > 0)
    ``q (n . e) - (n_x a + n_y b - n_z) >= 0``; a no-hit pixel (q = 0, n = 0) passes.
    """
    if normal is None:
        return None
    nx, ny, nz = normal[..., 0], normal[..., 1], normal[..., 2]
    facing = q * (nx * e[0] + ny * e[1] + nz * e[2]) - (nx * av + ny * bv - nz) >= np.float32(-1e-6)
    return np.asarray(facing, dtype=np.bool_).reshape(-1)


@dataclass(frozen=True)
class Warp:
    """A warped image. ``mask`` is 255 where B must be painted, 0 where content was carried;
    ``source`` is the index (in the order given) of the source each pixel came from, -1 for none."""

    image: Image
    mask: npt.NDArray[np.uint8]
    source: npt.NDArray[np.int8]

    @property
    def carried(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.mask == 0, dtype=np.bool_)

    @property
    def carried_fraction(self) -> float:
        return float(np.count_nonzero(self.mask == 0)) / max(1, self.mask.size)


def same_aspect(width: int, height: int, cam: Camera) -> bool:
    """True when ``width`` x ``height`` is the camera's aspect up to rounding to whole pixels."""
    if width < 1 or height < 1:
        return False
    return (
        abs(width * cam.height / cam.width - height) <= 1.0
        or abs(height * cam.width / cam.height - width) <= 1.0
    )


def output_size(cam: Camera, long_side: int) -> tuple[int, int]:
    """(width, height) at the camera's aspect with the given long side."""
    if cam.width >= cam.height:
        return long_side, max(1, round(long_side * cam.height / cam.width))
    return max(1, round(long_side * cam.width / cam.height)), long_side


def _check_image(image: Image, cam: Camera, what: str) -> None:
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] < 1):
        raise WarpError(f"{what}: expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    h, w = image.shape[:2]
    if not same_aspect(w, h, cam):
        raise WarpError(
            f"{what} is {w}x{h}, which is not the aspect of camera {cam.name!r} "
            f"({cam.width}x{cam.height}); give an image of that camera's view at any size with its aspect"
        )


# --------------------------------------------------------------------------- geometry


def _project(
    src: Camera, tgt: Camera, av: F32, bv: F32, q: F32
) -> tuple[F32, F32, F32, npt.NDArray[np.bool_]]:
    """Target pixels (ray factors av, bv and inverse depth q) -> source (u, v), the inverse depth seen
    from the source, and whether it lies in front of the source and inside its frame (flat arrays).
    ``av``, ``bv`` and ``q`` broadcast: (1, W), (H, 1) and (H, W) for a whole grid.

    Homogeneous: the target point ``(a z, b z, -z, 1)`` scaled by ``q = 1/z`` is ``(a, b, -1, q)``,
    which is also the direction of a no-hit pixel (q = 0), so both go through one formula.
    """
    m = (src.world_to_cam @ tgt.cam_to_world).astype(np.float32)

    def row(i: int) -> F32:  # m[i] . (a, b, -1, q), in place (few large temporaries: page faults)
        h: F32 = np.multiply(q, m[i, 3], dtype=np.float32)
        h -= m[i, 2]
        h += m[i, 0] * av
        h += m[i, 1] * bv
        return h

    hx, hy, w = row(0), row(1), row(2)
    np.negative(w, out=w)  # planar depth seen from src, times q
    front = w > np.float32(1e-6)
    np.copyto(w, np.float32(1), where=~front)
    np.reciprocal(w, out=w)
    hx *= w
    hx *= np.float32(src.fx)
    hx += np.float32(src.cx)  # u
    hy *= w
    hy *= np.float32(-src.fy)
    hy += np.float32(src.cy)  # v
    w *= q  # the inverse depth seen from src
    inside = front
    inside &= hx >= 0
    inside &= hx <= src.width
    inside &= hy >= 0
    inside &= hy <= src.height
    return hx.reshape(-1), hy.reshape(-1), w.reshape(-1), inside.reshape(-1)


@dataclass(frozen=True)
class _Footprint:
    """The 2x2 neighbourhood around (u, v) in a source grid padded by one pixel."""

    base: I64  # flat index of the top-left sample in the padded grid
    stride: int  # padded row length
    fx: F32
    fy: F32

    @classmethod
    def at(cls, u: F32, v: F32, width: int) -> _Footprint:
        s = np.subtract(u, np.float32(0.5), dtype=np.float32)
        t = np.subtract(v, np.float32(0.5), dtype=np.float32)
        x0, y0 = np.floor(s), np.floor(t)
        s -= x0  # the fractions
        t -= y0
        stride = width + 2
        base = y0.astype(np.int64)
        base += 1
        base *= stride
        base += x0.astype(np.int64)
        base += 1
        return cls(base, stride, s, t)

    def offsets(self) -> tuple[int, int, int, int]:
        return 0, 1, self.stride, self.stride + 1

    def weights(self) -> tuple[F32, F32, F32, F32]:
        gx, gy = np.float32(1) - self.fx, np.float32(1) - self.fy
        return gx * gy, self.fx * gy, gx * self.fy, self.fx * self.fy

    def take(self, sel: I64) -> _Footprint:
        return _Footprint(self.base[sel], self.stride, self.fx[sel], self.fy[sel])

    def nearest_corner(self) -> I64:
        return (self.fx >= 0.5).astype(np.int64) + 2 * (self.fy >= 0.5).astype(np.int64)


def _pad(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """One pixel of border, repeating the edge: the half pixel outside the outer centres clamps."""
    width = ((1, 1), (1, 1)) + ((0, 0),) * (a.ndim - 2)
    return np.pad(a, width, mode="edge")


def _agree(d: F32, qa: F32, tol: float) -> npt.NDArray[np.bool_]:
    """Relative agreement of inverse depths (NaN never agrees; two no-hits agree exactly)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.abs(d - qa) <= np.float32(tol) * np.maximum(d, qa), dtype=np.bool_)


def _resample_inv(inv: F32, width: int, height: int, tol: float) -> F32:
    """Edge-aware resize of an inverse-depth grid (see :meth:`View.resized`)."""
    h0, w0 = inv.shape
    u = np.tile(((np.arange(width) + 0.5) * (w0 / width)).astype(np.float32), height)
    v = np.repeat(((np.arange(height) + 0.5) * (h0 / height)).astype(np.float32), width)
    fp = _Footprint.at(u, v, w0)
    d = _corners(np.pad(inv, 1, mode="edge").reshape(-1), fp)
    hi = np.maximum(np.maximum(d[0], d[1]), np.maximum(d[2], d[3]))
    lo = np.minimum(np.minimum(d[0], d[1]), np.minimum(d[2], d[3]))
    interp = sum((c * w for c, w in zip(d, fp.weights(), strict=True)), np.zeros_like(u))
    near = np.choose(fp.nearest_corner(), d)
    out = np.where((hi - lo) <= np.float32(tol) * hi, interp, near)
    return np.asarray(out, dtype=np.float32).reshape(height, width)


# --------------------------------------------------------------------------- one source


def _corners(a: npt.NDArray[Any], fp: _Footprint) -> list[npt.NDArray[Any]]:
    """The four samples of each footprint (indices are in range: the grids are padded)."""
    idx = np.empty_like(fp.base)
    out = []
    for o in fp.offsets():
        np.add(fp.base, o, out=idx)
        out.append(np.take(a, idx, mode="clip"))
    return out


@dataclass(frozen=True)
class _Pixels:
    """An image (optionally padded by one pixel) with each pixel packed into one item, so gathering
    and scattering whole pixels is a 1-D take/put (ten times faster than row fancy indexing).
    8-bit RGB(A) packs into uint32 RGBX, which also allows the fixed-point bilinear filter."""

    packed: npt.NDArray[Any]  # (Hp * Wp,) uint32 or void items
    channels: int
    dtype: np.dtype[Any]

    @classmethod
    def empty(cls, height: int, width: int, channels: int, dtype: np.dtype[Any]) -> _Pixels:
        """A black image, packed like :meth:`of` packs one of this kind (no padding)."""
        if dtype == np.uint8 and channels in (3, 4):
            return cls(np.zeros(height * width, np.uint32), channels, dtype)
        return cls.of(np.zeros((height, width, channels), dtype), pad=False)

    @classmethod
    def of(cls, image3: Image, pad: bool = True) -> _Pixels:
        p = _pad(image3) if pad else image3
        c = p.shape[2]
        if p.dtype == np.uint8 and c in (3, 4):
            rgbx = np.zeros((*p.shape[:2], 4), np.uint8)
            rgbx[..., :c] = p
            return cls(rgbx.view(np.uint32).reshape(-1), c, p.dtype)
        p = np.ascontiguousarray(p)
        return cls(p.view(np.dtype((np.void, c * p.dtype.itemsize))).reshape(-1), c, p.dtype)

    @property
    def rgb8(self) -> bool:
        return self.packed.dtype == np.uint32

    def unpack(self, packed: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if self.rgb8:
            return np.ascontiguousarray(packed).view(np.uint8).reshape(-1, 4)[:, : self.channels]
        return np.ascontiguousarray(packed).view(self.dtype).reshape(-1, self.channels)

    def pack(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.ascontiguousarray(values, dtype=self.dtype).view(self.packed.dtype).reshape(-1)


def _bilinear(px: _Pixels, fp: _Footprint, weights: tuple[F32, ...]) -> npt.NDArray[Any]:
    if px.rgb8:
        return _bilinear_rgb8(px.packed, fp)
    acc = np.zeros((fp.base.size, px.channels), np.float32)
    for c, wgt in zip(_corners(px.packed, fp), weights, strict=True):
        acc += px.unpack(c).astype(np.float32) * wgt[:, None]
    if np.issubdtype(px.dtype, np.integer):
        info = np.iinfo(px.dtype)
        np.clip(np.rint(acc, out=acc), info.min, info.max, out=acc)
    return px.pack(acc.astype(px.dtype))


_LANES = np.uint32(0x00FF00FF)


def _bilinear_rgb8(packed: npt.NDArray[np.uint32], fp: _Footprint) -> npt.NDArray[np.uint32]:
    """Bilinear filter of packed 8-bit RGBX in fixed point: positions to 1/16 pixel, so the four
    weights are whole numbers summing to exactly 256; two channels per 32-bit lane pair (SWAR)."""
    wx = np.rint(fp.fx * np.float32(16)).astype(np.uint32)
    wy = np.rint(fp.fy * np.float32(16)).astype(np.uint32)
    gx, gy = np.uint32(16) - wx, np.uint32(16) - wy
    lo = np.full(fp.base.size, 0x00800080, np.uint32)  # rounding: + 0.5 after the shift
    hi = lo.copy()
    tmp = np.empty_like(lo)
    for c, wgt in zip(_corners(packed, fp), (gx * gy, wx * gy, gx * wy, wx * wy), strict=True):
        np.bitwise_and(c, _LANES, out=tmp)
        tmp *= wgt
        lo += tmp
        np.right_shift(c, np.uint32(8), out=c)
        c &= _LANES
        c *= wgt
        hi += c
    lo >>= np.uint32(8)
    lo &= _LANES
    hi &= ~_LANES
    lo |= hi
    return lo


def _lookup(
    src: View,
    px: _Pixels,
    tgt: Camera,
    rays: tuple[F32, F32, F32],
    facing: npt.NDArray[np.bool_] | None,
    tol: float,
    mode: str,
) -> tuple[I64, npt.NDArray[Any]]:
    """(positions carried, their packed values) of target pixels (``rays``: ray factors a, b and
    inverse depth q, see :func:`_project`) from one source view and its padded image; ``facing``
    (from the target's normals) excludes surfaces turned away from the source."""
    u, v, qa, inside = _project(src.camera, tgt, *rays)
    idx = np.flatnonzero(inside if facing is None else inside & facing)
    fp = _Footprint.at(u[idx], v[idx], src.camera.width)
    qa = qa[idx]
    inv = _corners(src.padded_inv, fp)
    weights = fp.weights()
    hi, lo = np.maximum(inv[0], inv[1]), np.minimum(inv[0], inv[1])
    for c in inv[2:]:
        np.maximum(hi, c, out=hi)
        np.minimum(lo, c, out=lo)
    np.subtract(hi, lo, out=lo)
    hi *= np.float32(tol)
    cont = lo <= hi  # the four samples lie on one surface
    interp = np.multiply(inv[0], weights[0], out=hi)
    for c, wgt in zip(inv[1:], weights[1:], strict=True):
        np.multiply(c, wgt, out=lo)
        interp += lo
    cont_ok = _agree(interp, qa, tol)
    cont_ok &= cont
    smooth = np.flatnonzero(cont_ok)
    offs = np.array(fp.offsets(), dtype=np.int64)
    if mode == "bilinear":  # over every footprint (cheaper than subsetting, few are rough)
        vals_smooth = np.take(_bilinear(px, fp, weights), smooth)
    else:
        sub = fp.take(smooth)
        vals_smooth = np.take(px.packed, sub.base + offs[sub.nearest_corner()])
    # a footprint across a depth edge: the nearest sample stands for the area around (u, v)
    rough = np.flatnonzero(~cont)
    corner = fp.take(rough).nearest_corner()
    near = np.choose(corner, [c[rough] for c in inv])
    agree = _agree(near, qa[rough], tol)
    rough, corner = rough[agree], corner[agree]
    vals_rough = np.take(px.packed, fp.base[rough] + offs[corner])
    return idx[np.concatenate([smooth, rough])], np.concatenate([vals_smooth, vals_rough])


# --------------------------------------------------------------------------- public


def _check_sources(sources: Sequence[tuple[View, Image]], mode: str, tol: float) -> list[Image]:
    if not 0 < len(sources) <= 127:
        raise WarpError(f"give 1 to 127 source cameras, got {len(sources)}")
    if mode not in MODES:
        raise WarpError(f"unknown warp mode {mode!r}; use one of {', '.join(MODES)}")
    if not 0 < tol < 1:
        raise WarpError(f"the depth tolerance must be between 0 and 1, got {tol}")
    imgs = [np.asarray(img) for _, img in sources]
    for (view, _), img in zip(sources, imgs, strict=True):
        _check_image(img, view.camera, f"the image of camera {view.name!r}")
    if len({(1 if i.ndim == 2 else i.shape[2], i.ndim, i.dtype) for i in imgs}) > 1:
        raise WarpError("the source images differ in channels or type; give images of one kind")
    return [img[..., None] if img.ndim == 2 else img for img in imgs]


#: Target pixels per block: the temporaries stay small, in cache and reused by the allocator.
_BLOCK = 1 << 16

_Block = tuple[int, "I64 | None", tuple[F32, F32, F32], "F32 | None"]


def _blocks(tv: View, todo: I64, full: bool) -> Iterator[_Block]:
    """(first position in ``todo``, pixel ids or None when they are those positions, rays, normals)."""
    h, w = tv.inv_depth.shape
    a, b = tv.camera.ray_factors()
    if full:  # the whole grid, by rows: ray factors broadcast over rows and columns
        rows = max(1, _BLOCK // w)
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            normal = None if tv.normal is None else tv.normal[r0:r1]
            yield r0 * w, None, (a[None, :], b[r0:r1, None], tv.inv_depth[r0:r1]), normal
        return
    q = tv.inv_depth.reshape(-1)
    for c0 in range(0, todo.size, _BLOCK):
        ids = todo[c0 : c0 + _BLOCK]
        normal = None if tv.normal is None else tv.normal.reshape(-1, 3)[ids]
        yield c0, ids, (a[ids % w], b[ids // w], q[ids]), normal


def warp(
    sources: Sequence[tuple[View, Image]],
    target: View,
    size: tuple[int, int] | None = None,
    *,
    mode: str = "bilinear",
    tol: float = DEFAULT_TOL,
    carry_background: bool = True,
) -> Warp:
    """Warp each source's image (its camera's view, any size with its aspect) into ``target``.

    ``size`` is the output (width, height), at the target's aspect; default the target's canvas.
    Sources accumulate in order: a pixel takes the first source that saw its surface. With
    ``carry_background`` a pixel B rendered as no hit takes a no-hit pixel of A in the same
    direction (the sky seen through a window). Returns a :class:`Warp` (image of the images' dtype
    and channels, black where nothing was carried; mask 255 there). ``mode="nearest"`` for labels.
    """
    imgs = _check_sources(sources, mode, tol)
    w, h = size if size is not None else (target.camera.width, target.camera.height)
    if not same_aspect(w, h, target.camera):
        raise WarpError(f"output size {w}x{h} is not the aspect of camera {target.name!r}")
    tv = target.resized(w, h, tol)
    q = tv.inv_depth.reshape(-1)
    todo = np.flatnonzero(q > 0) if not carry_background else np.arange(q.size, dtype=np.int64)
    out = _Pixels.empty(h, w, imgs[0].shape[2], imgs[0].dtype)
    source = np.full(q.size, -1, np.int8)
    for k, ((view, _), img) in enumerate(zip(sources, imgs, strict=True)):
        if todo.size == 0:
            break
        sv = view.resized(img.shape[1], img.shape[0], tol)
        px = _Pixels.of(img)
        e = (tv.camera.world_to_cam @ np.append(sv.camera.position, 1.0))[:3].astype(np.float32)
        keep = np.ones(todo.size, bool)
        full = todo.size == q.size  # then todo is every pixel: positions are pixel ids
        for c0, ids, rays, normal in _blocks(tv, todo, full):
            pos, vals = _lookup(sv, px, tv.camera, rays, _facing(normal, e, *rays), tol, mode)
            pos += c0
            carried = pos if ids is None else ids[pos - c0]
            out.packed[carried] = vals
            source[carried] = k
            keep[pos] = False
        todo = todo[keep]
    image = out.unpack(out.packed).reshape(h, w, -1)
    if np.asarray(sources[0][1]).ndim == 2:
        image = image[..., 0]
    mask = np.where(source < 0, np.uint8(255), np.uint8(0)).astype(np.uint8).reshape(h, w)
    return Warp(np.ascontiguousarray(image), mask, source.reshape(h, w))


def warp_image(
    sources: Sequence[tuple[View, Image]],
    target: View,
    size: tuple[int, int] | None = None,
    **options: Any,
) -> tuple[Image, npt.NDArray[np.uint8]]:
    """(image, mask) of :func:`warp`: the building block of a chain (mask 255 = paint here)."""
    res = warp(sources, target, size, **options)
    return res.image, res.mask
