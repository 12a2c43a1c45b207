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
4. Anything that fails (behind A, outside A's frame, hidden from A behind something else) is not
   carried: black in the image, 255 in the mask.

Being a lookup from every B pixel, a continuous surface gets no holes from sampling gaps. Several
sources accumulate in the order given: each B pixel takes the first source that saw its surface
(B's depth already picks the nearest surface, so this is the z-buffer). Images of any size with
their camera's aspect are accepted: depth and intrinsics are resampled to the image's grid
(edge-aware, :meth:`View.resized`), and the target is computed on the output grid.

Pure numpy, vectorised: no per-pixel Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .camera import Camera, camera_of, inverse_depth
from .canvas import CanvasSet
from .errors import SceneImportError

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
    """A posed camera with its inverse planar depth on the camera's grid (0 = no hit)."""

    camera: Camera
    inv_depth: F32

    @classmethod
    def of(cls, cs: CanvasSet) -> View:
        """The view of a loaded canvas set; :class:`~lib_scene.camera.PoseError` without a pose."""
        cam = camera_of(cs)
        return cls(cam, inverse_depth(cs, cam))

    @property
    def name(self) -> str:
        return self.camera.name

    def resized(self, width: int, height: int, tol: float = DEFAULT_TOL) -> View:
        """The view on a ``width`` x ``height`` grid of the same aspect. Inverse depth is interpolated
        bilinearly where its 2x2 footprint is one surface (exact on planes), else taken nearest."""
        if (width, height) == (self.camera.width, self.camera.height):
            return self
        return View(self.camera.scaled(width, height), _resample_inv(self.inv_depth, width, height, tol))


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
    from the source, and whether it lies in front of the source and inside its frame.

    Homogeneous: the target point ``(a z, b z, -z, 1)`` scaled by ``q = 1/z`` is ``(a, b, -1, q)``,
    which is also the direction of a no-hit pixel (q = 0), so both go through one formula.
    """
    m = (src.world_to_cam @ tgt.cam_to_world).astype(np.float32)
    hx = m[0, 0] * av + m[0, 1] * bv + (m[0, 3] * q - m[0, 2])
    hy = m[1, 0] * av + m[1, 1] * bv + (m[1, 3] * q - m[1, 2])
    w = -(m[2, 0] * av + m[2, 1] * bv + (m[2, 3] * q - m[2, 2]))  # planar depth seen from src, times q
    front = w > np.float32(1e-6)
    w = np.where(front, w, np.float32(1))
    inv_w: F32 = np.asarray(np.float32(1) / w, dtype=np.float32)
    u: F32 = np.float32(src.cx) + np.float32(src.fx) * hx * inv_w
    v: F32 = np.float32(src.cy) - np.float32(src.fy) * hy * inv_w
    inside = front & (u >= 0) & (u <= src.width) & (v >= 0) & (v <= src.height)
    return u, v, q * inv_w, inside


@dataclass(frozen=True)
class _Footprint:
    """The 2x2 neighbourhood around (u, v) in a source grid padded by one pixel."""

    base: I64  # flat index of the top-left sample in the padded grid
    stride: int  # padded row length
    fx: F32
    fy: F32

    @classmethod
    def at(cls, u: F32, v: F32, width: int) -> _Footprint:
        s, t = u - np.float32(0.5), v - np.float32(0.5)
        x0, y0 = np.floor(s), np.floor(t)
        stride = width + 2
        base = (y0.astype(np.int64) + 1) * stride + (x0.astype(np.int64) + 1)
        return cls(base, stride, (s - x0).astype(np.float32), (t - y0).astype(np.float32))

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
    return [a[fp.base + o] for o in fp.offsets()]


def _bilinear(img_pad: Image, fp: _Footprint) -> npt.NDArray[Any]:
    acc = np.zeros((fp.base.size, img_pad.shape[1]), np.float32)
    for c, wgt in zip(_corners(img_pad, fp), fp.weights(), strict=True):
        acc += c.astype(np.float32) * wgt[:, None]
    if np.issubdtype(img_pad.dtype, np.integer):
        info = np.iinfo(img_pad.dtype)
        acc = np.clip(np.rint(acc), info.min, info.max)
    return acc.astype(img_pad.dtype)


def _lookup(
    src: View, image: Image, tgt: Camera, av: F32, bv: F32, q: F32, tol: float, mode: str
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[Any]]:
    """(carried, values) of target pixels (ray factors av, bv; inverse depth q) from one source."""
    u, v, qa, inside = _project(src.camera, tgt, av, bv, q)
    idx = np.flatnonzero(inside)
    ok = np.zeros(q.size, bool)
    values = np.zeros((q.size, image.shape[2]), image.dtype)
    if idx.size == 0:
        return ok, values
    fp = _Footprint.at(u[idx], v[idx], src.camera.width)
    qa = qa[idx]
    inv = _corners(_pad(src.inv_depth).reshape(-1), fp)
    img_pad = _pad(image).reshape(-1, image.shape[2])
    offs = np.array(fp.offsets(), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        hi = np.maximum(np.maximum(inv[0], inv[1]), np.maximum(inv[2], inv[3]))
        lo = np.minimum(np.minimum(inv[0], inv[1]), np.minimum(inv[2], inv[3]))
        cont = (hi - lo) <= np.float32(tol) * hi
    interp = sum((c * w for c, w in zip(inv, fp.weights(), strict=True)), np.zeros_like(qa))
    smooth = np.flatnonzero(cont & _agree(interp, qa, tol))
    sub = fp.take(smooth)
    ok[idx[smooth]] = True
    if mode == "bilinear":
        values[idx[smooth]] = _bilinear(img_pad, sub)
    else:
        values[idx[smooth]] = img_pad[sub.base + offs[sub.nearest_corner()]]
    # a footprint across a depth edge: the nearest sample stands for the area around (u, v)
    rough = np.flatnonzero(~cont)
    corner = fp.take(rough).nearest_corner()
    near = np.choose(corner, [c[rough] for c in inv])
    rough = rough[_agree(near, qa[rough], tol)]
    ok[idx[rough]] = True
    values[idx[rough]] = img_pad[fp.base[rough] + offs[fp.take(rough).nearest_corner()]]
    return ok, values


# --------------------------------------------------------------------------- public


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
    and channels, black where nothing was carried; mask 255 there).
    """
    if not sources:
        raise WarpError("nothing to warp from: give at least one source camera")
    if mode not in MODES:
        raise WarpError(f"unknown warp mode {mode!r}; use one of {', '.join(MODES)}")
    if not 0 < tol < 1:
        raise WarpError(f"the depth tolerance must be between 0 and 1, got {tol}")
    imgs = [np.asarray(img) for _, img in sources]
    for (view, _), img in zip(sources, imgs, strict=True):
        _check_image(img, view.camera, f"the image of camera {view.name!r}")
    flat = imgs[0].ndim == 2
    chans = {1 if i.ndim == 2 else i.shape[2] for i in imgs}
    if len(chans) > 1 or len({i.dtype for i in imgs}) > 1:
        raise WarpError("the source images differ in channels or type; give images of one kind")
    w, h = size if size is not None else (target.camera.width, target.camera.height)
    if not same_aspect(w, h, target.camera):
        raise WarpError(f"output size {w}x{h} is not the aspect of camera {target.name!r}")
    tv = target.resized(w, h, tol)
    q = tv.inv_depth.reshape(-1)
    todo = np.flatnonzero(q > 0) if not carry_background else np.arange(q.size, dtype=np.int64)
    out = np.zeros((q.size, chans.pop()), imgs[0].dtype)
    source = np.full(q.size, -1, np.int8)
    a, b = tv.camera.ray_factors()
    for k, ((view, _), img) in enumerate(zip(sources, imgs, strict=True)):
        if todo.size == 0:
            break
        sv = view.resized(img.shape[1], img.shape[0], tol)
        img3 = img[..., None] if img.ndim == 2 else img
        if todo.size == q.size:
            av, bv = np.tile(a, h), np.repeat(b, w)
        else:
            av, bv = a[todo % w], b[todo // w]
        ok, vals = _lookup(sv, img3, tv.camera, av, bv, q[todo], tol, mode)
        out[todo[ok]] = vals[ok]
        source[todo[ok]] = k
        todo = todo[~ok]
    image = out.reshape(h, w) if flat else out.reshape(h, w, -1)
    mask = np.where(source.reshape(h, w) < 0, np.uint8(255), np.uint8(0)).astype(np.uint8)
    return Warp(image, mask, source.reshape(h, w))


def warp_image(
    sources: Sequence[tuple[View, Image]],
    target: View,
    size: tuple[int, int] | None = None,
    **options: Any,
) -> tuple[Image, npt.NDArray[np.uint8]]:
    """(image, mask) of :func:`warp`: the building block of a chain (mask 255 = paint here)."""
    res = warp(sources, target, size, **options)
    return res.image, res.mask
