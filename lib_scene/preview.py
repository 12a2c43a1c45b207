"""Preview-resolution rendering for the interactive editor: fast, exact where it matters.

An edit of a split plan must redraw in well under a second, whatever the canvas size. So a
camera is prepared once (:func:`prepare`):

* depth, hit and the index passes are *nearest*-sampled to a preview grid whose long side is about
  1024 px (exact file values: quantisation and region labels of the preview are those of the
  full canvas at the sampled pixels, never blends of neighbours);
* the beauty render is area-averaged (box filter) to the same grid and tone-mapped to sRGB;
* the full canvas's hit depths are sorted once (:class:`DepthIndex`), so per-split pixel counts
  and "levels used / wasted" for the *whole* canvas come from binary searches in
  O(levels * log N), not from a pass over every pixel.

Then each edit calls :func:`render_depth` on the preview only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from .canvas import CanvasSet
from .depth import LevelUsage, Quantized, level_index
from .splits import TOTAL_LEVELS, SplitPlan, parse_colour

_T = TypeVar("_T", bound=np.generic)

PREVIEW_LONG_SIDE = 1024


# --------------------------------------------------------------------------- sampling grid


@dataclass(frozen=True)
class PreviewGrid:
    """Which full-canvas pixels the preview shows: row ``ys[i]``, column ``xs[j]``."""

    full_height: int
    full_width: int
    ys: NDArray[Any]
    xs: NDArray[Any]

    @property
    def height(self) -> int:
        return int(self.ys.size)

    @property
    def width(self) -> int:
        return int(self.xs.size)

    @property
    def scale(self) -> float:
        """Preview pixels per canvas pixel (<= 1)."""
        return self.width / self.full_width

    def sample(self, arr: NDArray[_T]) -> NDArray[_T]:
        """Nearest sample of a (H, W, ...) canvas array onto the grid (a copy; exact values)."""
        if self.height == self.full_height and self.width == self.full_width:
            return np.array(arr, copy=True)
        out: NDArray[_T] = arr[self.ys[:, None], self.xs[None, :]]
        return out

    def to_full(self, x: float, y: float) -> tuple[int, int]:
        """Full-canvas pixel (column, row) under preview pixel (x, y)."""
        xi = min(max(int(x), 0), self.width - 1)
        yi = min(max(int(y), 0), self.height - 1)
        return int(self.xs[xi]), int(self.ys[yi])


def preview_grid(height: int, width: int, long_side: int = PREVIEW_LONG_SIDE) -> PreviewGrid:
    """Pixel centres of a grid with the canvas's aspect and a long side of at most ``long_side``."""
    if height < 1 or width < 1:
        raise ValueError(f"canvas size must be positive, got {width}x{height}")
    s = min(1.0, long_side / max(height, width))
    ph, pw = max(1, int(round(height * s))), max(1, int(round(width * s)))
    ys = np.minimum(((np.arange(ph) + 0.5) * height / ph).astype(np.intp), height - 1)
    xs = np.minimum(((np.arange(pw) + 0.5) * width / pw).astype(np.intp), width - 1)
    return PreviewGrid(height, width, ys, xs)


def area_resize(img: NDArray[Any], width: int, height: int) -> NDArray[Any]:
    """Box-filter (area) resize of a float (H, W) or (H, W, C) image; float32 out."""
    a = np.asarray(img, dtype=np.float32)
    if a.shape[0] == height and a.shape[1] == width:
        return a.copy()
    chans = a[..., None] if a.ndim == 2 else a
    out = np.empty((height, width, chans.shape[2]), np.float32)
    for c in range(chans.shape[2]):  # a loop over channels, not pixels
        im = Image.fromarray(np.ascontiguousarray(chans[..., c]), "F")
        out[..., c] = np.asarray(im.resize((width, height), Image.BOX), dtype=np.float32)
    return out[..., 0] if a.ndim == 2 else out


# --------------------------------------------------------------------------- tone mapping / overlays


def tone_map(linear: NDArray[Any], exposure: float = 0.0) -> NDArray[Any]:
    """Linear scene-referred RGB(A) float -> 8-bit sRGB RGB (alpha dropped, values clipped).

    ``exposure`` is in stops. NaN and negative values become black.
    """
    a = np.asarray(linear, dtype=np.float32)[..., :3]
    if exposure:
        a = a * np.float32(2.0**exposure)
    a = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(a, 0.0, 1.0, out=a)
    srgb = np.where(a <= 0.0031308, a * 12.92, 1.055 * np.power(a, 1.0 / 2.4) - 0.055)
    return np.clip(srgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def grey_rgb(grey: NDArray[Any]) -> NDArray[Any]:
    return np.repeat(np.asarray(grey, np.uint8)[..., None], 3, axis=2)


@lru_cache(maxsize=4)
def _overlay_table(alpha: float) -> NDArray[np.uint8]:
    """Every result of the overlay's float32 blend: row m < 256 = a painted pixel whose mask
    channel is m, row 256 = an unpainted pixel; column = the base channel."""
    v = np.arange(256, dtype=np.float32)
    b, m = v[None, :], v[:, None]
    painted = b * (1.0 - alpha) + m * alpha
    table = np.concatenate([painted, b * 0.6])
    out: NDArray[np.uint8] = np.clip(table + 0.5, 0, 255).astype(np.uint8).ravel()
    out.flags.writeable = False  # shared by every call (cached)
    return out


def overlay(base: NDArray[Any], mask: NDArray[Any], alpha: float = 0.55) -> NDArray[Any]:
    """Blend an RGB mask over an RGB base where the mask is not black (black = unassigned shows
    the base, darkened a little so the regions stand out). 8-bit inputs go through a table of the
    same float32 arithmetic (the same bytes, a fraction of the time)."""
    b8, m8 = np.asarray(base)[..., :3], np.asarray(mask)[..., :3]
    if b8.shape != m8.shape:
        raise ValueError(f"overlay needs equal sizes, got {b8.shape} and {m8.shape}")
    if b8.dtype == np.uint8 and m8.dtype == np.uint8:
        table = _overlay_table(float(alpha))
        key = m8.astype(np.uint16)
        key <<= 8
        key |= b8
        out: NDArray[np.uint8] = np.take(table[:65536], key)
        free = (m8[..., 0] | m8[..., 1] | m8[..., 2]) == 0
        np.copyto(out, np.take(table[65536:], b8), where=free[..., None])
        return out
    painted = m8.any(axis=2, keepdims=True)
    b, m = b8.astype(np.float32), m8.astype(np.float32)
    out = np.where(painted, b * (1.0 - alpha) + m * alpha, b * 0.6)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- exact whole-canvas statistics


@dataclass(frozen=True)
class DepthIndex:
    """The canvas's hit depths, sorted once; answers per-split counts and level usage exactly."""

    sorted_depth: NDArray[Any]  # float32, ascending, hit pixels only
    total_pixels: int

    @classmethod
    def build(cls, depth: NDArray[Any], hit: NDArray[Any]) -> DepthIndex:
        d = np.sort(np.asarray(depth, np.float32)[hit], kind="stable")
        d.flags.writeable = False
        return cls(d, int(depth.size))

    @property
    def hits(self) -> int:
        return int(self.sorted_depth.size)

    @property
    def range(self) -> tuple[float, float] | None:
        if not self.hits:
            return None
        return float(self.sorted_depth[0]), float(self.sorted_depth[-1])

    def count_le(self, x: float) -> int:
        """Hit pixels with depth <= x (compared in float64, like the quantiser)."""
        return int(np.searchsorted(self.sorted_depth, _floor32(x), side="right"))

    def count_lt(self, x: float) -> int:
        """Hit pixels with depth < x (compared in float64)."""
        return int(np.searchsorted(self.sorted_depth, _ceil32(x), side="left"))

    def split_slices(self, plan: SplitPlan) -> NDArray[Any]:
        """(S + 1) positions: split i holds sorted_depth[pos[i]:pos[i+1]] (same rule as
        :func:`lib_scene.depth.split_index`: [start, end), the last closed, below start -> split 0,
        nothing at or past the cutoff)."""
        n = self.count_le(plan.end)
        if plan.cutoff is not None:
            n = min(n, self.count_lt(plan.cutoff))
        inner = [min(self.count_lt(s.end), n) for s in plan.splits[:-1]]
        return np.array([0, *inner, n], dtype=np.int64)

    def split_counts(self, plan: SplitPlan) -> NDArray[Any]:
        return np.diff(self.split_slices(plan))

    def level_counts(self, plan: SplitPlan) -> NDArray[Any]:
        """Pixels per global level 0..255 (exact: thresholds found by binary search, then checked
        against :func:`lib_scene.depth.level_index` itself at the two depths either side)."""
        out = np.zeros(TOTAL_LEVELS, np.int64)
        pos = self.split_slices(plan)
        offset = 0
        for i, s in enumerate(plan.splits):  # a loop over splits (<= 256), not pixels
            a, b = int(pos[i]), int(pos[i + 1])
            n = int(s.levels)
            if n == 0 or b <= a:
                offset += n
                continue
            seg = self.sorted_depth[a:b]
            j = np.arange(1, n, dtype=np.float64)
            if plan.curve == "inverse":
                thr = 1.0 / (1.0 / s.start - (j / n) * (1.0 / s.start - 1.0 / s.end))
            else:
                thr = s.start + (s.end - s.start) * (j / n)
            thr32 = thr.astype(np.float32)
            thr32 = np.where(thr32.astype(np.float64) < thr, np.nextafter(thr32, np.float32(np.inf)), thr32)
            p = np.searchsorted(seg, thr32, side="left")
            if p.size:
                lv = np.arange(1, n) + offset  # global level that starts at p
                # correct float rounding: the depth before p must be below level lv, the one at p at/above it
                before = np.clip(p - 1, 0, seg.size - 1)
                at = np.clip(p, 0, seg.size - 1)
                sub = plan_single(plan, i)
                lev_before = level_index(seg[before].astype(np.float64), None, sub) + offset
                lev_at = level_index(seg[at].astype(np.float64), None, sub) + offset
                too_far = (p > 0) & (lev_before >= lv)
                p = np.where(too_far, np.searchsorted(seg, seg[before], side="left"), p)
                too_near = (p < seg.size) & ~too_far & (lev_at < lv)
                p = np.where(too_near, np.searchsorted(seg, seg[at], side="right"), p)
                p = np.maximum.accumulate(p)
            bounds = np.concatenate(([0], p, [seg.size]))
            out[offset : offset + n] = np.diff(bounds)
            offset += n
        return out

    def usage(self, plan: SplitPlan) -> LevelUsage:
        counts = self.level_counts(plan)
        present = counts > 0
        per, o = [], 0
        for s in plan.splits:
            per.append((int(s.levels), int(present[o : o + s.levels].sum())))
            o += s.levels
        return LevelUsage(allocated=plan.total_levels, used=int(present.sum()), per_split=tuple(per))

    def histogram(self, lo: float, hi: float, bins: int) -> NDArray[Any]:
        """Counts of hit depths in ``bins`` equal bins over [lo, hi] (binary searches, no pass)."""
        if hi <= lo:
            hi = lo + max(abs(lo) * 1e-6, 1e-6)
        edges = np.linspace(lo, hi, bins + 1)
        pos = np.searchsorted(self.sorted_depth, edges.astype(np.float32), side="left")
        pos[-1] = self.count_le(hi)
        return np.diff(pos)

    def depth_at_fraction(self, q: float) -> float:
        """Depth at quantile ``q`` of the hit pixels."""
        if not self.hits:
            raise ValueError("no hit pixels")
        k = min(max(int(q * (self.hits - 1)), 0), self.hits - 1)
        return float(self.sorted_depth[k])


def _floor32(x: float) -> np.float32:
    """The largest float32 <= x."""
    f = np.float32(x)
    if float(f) > x:
        f = np.nextafter(f, np.float32(-np.inf))
    return f


def _ceil32(x: float) -> np.float32:
    """The smallest float32 >= x."""
    f = np.float32(x)
    if float(f) < x:
        f = np.nextafter(f, np.float32(np.inf))
    return f


def plan_single(plan: SplitPlan, i: int) -> SplitPlan:
    """Split ``i`` of ``plan`` alone (offset 0), for evaluating its level function."""
    s = plan.splits[i]
    return SplitPlan((s,), cutoff=None, curve=plan.curve)


# --------------------------------------------------------------------------- the prepared camera


@dataclass(frozen=True)
class Preview:
    """One camera at preview resolution (arrays read-only) plus its whole-canvas depth index."""

    camera: str
    grid: PreviewGrid
    depth: NDArray[Any] | None
    hit: NDArray[Any] | None
    beauty: NDArray[Any] | None  # (h, w, 3) uint8 sRGB
    object_index: NDArray[Any] | None
    material_index: NDArray[Any] | None
    index: DepthIndex | None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.height, self.grid.width

    def depth_at(self, x: float, y: float) -> float | None:
        """Depth under preview pixel (x, y); None for a no-hit pixel or without depth."""
        if self.depth is None or self.hit is None:
            return None
        xi = min(max(int(x), 0), self.grid.width - 1)
        yi = min(max(int(y), 0), self.grid.height - 1)
        if not self.hit[yi, xi]:
            return None
        return float(self.depth[yi, xi])

    def base_image(self) -> NDArray[Any]:
        """The beauty render, or the depth as plain grey when there is none."""
        if self.beauty is not None:
            return self.beauty
        h, w = self.shape
        return np.zeros((h, w, 3), np.uint8)


def _ro(a: NDArray[_T] | None) -> NDArray[_T] | None:
    if a is not None:
        a.flags.writeable = False
    return a


def prepare(cs: CanvasSet, long_side: int = PREVIEW_LONG_SIDE, exposure: float = 0.0) -> Preview:
    """Sample a camera onto its preview grid once (the only full-canvas work of an edit session)."""
    grid = preview_grid(cs.height, cs.width, long_side)
    beauty = None
    if cs.beauty is not None:
        beauty = tone_map(area_resize(cs.beauty[..., :3], grid.width, grid.height), exposure)
    depth = hit = index = None
    if cs.depth is not None and cs.hit is not None:
        depth = grid.sample(cs.depth)
        hit = grid.sample(cs.hit)
        index = DepthIndex.build(cs.depth, cs.hit)
    return Preview(
        camera=cs.camera,
        grid=grid,
        depth=_ro(depth),
        hit=_ro(hit),
        beauty=_ro(beauty),
        object_index=_ro(grid.sample(cs.object_index)) if cs.object_index is not None else None,
        material_index=_ro(grid.sample(cs.material_index)) if cs.material_index is not None else None,
        index=index,
    )


# --------------------------------------------------------------------------- histogram plot


@dataclass(frozen=True)
class HistogramLayout:
    """Where the plot area of a histogram image is, and its depth range: maps x <-> depth."""

    x0: int
    x1: int
    lo: float
    hi: float

    def depth_at_x(self, x: float) -> float | None:
        if not self.x0 <= x <= self.x1 or self.x1 <= self.x0:
            return None
        return self.lo + (x - self.x0) / (self.x1 - self.x0) * (self.hi - self.lo)

    def x_at_depth(self, d: float) -> float:
        return self.x0 + (d - self.lo) / (self.hi - self.lo) * (self.x1 - self.x0)


_BG = (24, 27, 34)
_PLOT_BG = (33, 37, 46)
_BAR = (170, 178, 196)
_BOUNDARY = (250, 204, 21)
_CUTOFF = (239, 68, 68)
_TEXT = (226, 232, 240)


def histogram_range(index: DepthIndex, plan: SplitPlan | None) -> tuple[float, float]:
    """Hit depth range, widened to include the plan's splits and cutoff."""
    rng = index.range
    lo, hi = rng if rng else (0.0, 1.0)
    if plan is not None:
        lo, hi = min(lo, plan.start), max(hi, plan.end)
        if plan.cutoff is not None and math.isfinite(plan.cutoff):
            hi = max(hi, plan.cutoff)
            lo = min(lo, plan.cutoff)
    if hi <= lo:
        hi = lo + max(abs(lo) * 1e-6, 1e-6)
    pad = (hi - lo) * 0.01
    return lo - pad, hi + pad


def histogram_image(
    index: DepthIndex,
    plan: SplitPlan | None,
    width: int = 960,
    height: int = 240,
    log: bool = False,
    unit: str = "",
    selected: int | None = None,
) -> tuple[NDArray[Any], HistogramLayout]:
    """An RGB plot of the hit-depth histogram with split spans (tinted in their test colours),
    boundaries (numbered), each split's level count, and the cutoff (red, hatched beyond).

    Returns the image and the layout that maps a clicked x back to a depth.
    """
    ml, mr, mt, mb = 8, 8, 22, 22
    x0, x1 = ml, width - mr
    y0, y1 = mt, height - mb
    lo, hi = histogram_range(index, plan)
    layout = HistogramLayout(x0, x1, lo, hi)
    pw, ph = x1 - x0, y1 - y0
    bins = max(8, min(pw // 6, 160))
    counts = index.histogram(lo, hi, bins).astype(np.float64)
    vals = np.log1p(counts) if log else counts
    top = vals.max() if vals.size and vals.max() > 0 else 1.0

    img = np.empty((height, width, 3), np.uint8)
    img[:] = _BG
    img[y0:y1, x0:x1] = _PLOT_BG
    cols = np.arange(pw)
    col_depth = lo + (cols + 0.5) / pw * (hi - lo)

    if plan is not None:
        # tint each split span: its test colour, else alternating greys
        b = np.array(plan.boundaries())
        sid = np.searchsorted(b[1:-1], col_depth, side="right")
        inside = (col_depth >= b[0]) & (col_depth <= b[-1])
        tints = np.array(
            [
                parse_colour(s.test) if s.test else ((58, 64, 78) if k % 2 == 0 else (46, 51, 62))
                for k, s in enumerate(plan.splits)
            ],
            np.float32,
        )
        strength = np.array([0.35 if s.test else 1.0 for s in plan.splits], np.float32)
        tcol = tints[sid] * strength[sid, None] + np.array(_PLOT_BG, np.float32) * (1 - strength[sid, None])
        if selected is not None and 0 <= selected < len(plan.splits):
            sel = sid == selected
            tcol[sel] = tcol[sel] * 0.6 + np.array([96, 165, 250], np.float32) * 0.4
        span = np.where(inside[:, None], tcol, np.array(_PLOT_BG, np.float32))
        img[y0:y1, x0:x1] = span.astype(np.uint8)[None, :, :]
        if plan.cutoff is not None:
            past = col_depth >= plan.cutoff
            hatch = ((np.arange(ph)[:, None] + cols[None, :]) % 8 < 2) & past[None, :]
            region = img[y0:y1, x0:x1]
            region[hatch] = (110, 40, 40)

    # bars (vectorised per column)
    bin_of_col = np.minimum((cols * bins) // pw, bins - 1)
    bar_h = np.round(vals[bin_of_col] / top * (ph - 4)).astype(np.int64)
    rows = np.arange(ph)[:, None]
    bars = rows >= (ph - bar_h)[None, :]
    plot = img[y0:y1, x0:x1]
    plot[bars] = _BAR

    pil = Image.fromarray(img, "RGB")
    draw = ImageDraw.Draw(pil)
    font = ImageFont.load_default()
    fmt = _fmt_depth
    if plan is not None:
        bounds = plan.boundaries()
        for k, d in enumerate(bounds):
            x = layout.x_at_depth(d)
            if x0 <= x <= x1:
                draw.line([(x, y0), (x, y1)], fill=_BOUNDARY, width=1)
                draw.text((min(max(x + 2, x0), x1 - 14), y1 - 12), str(k), fill=_BOUNDARY, font=font)
        for s in plan.splits:
            xa, xb = layout.x_at_depth(s.start), layout.x_at_depth(s.end)
            xm = (max(xa, x0) + min(xb, x1)) / 2
            label = f"{s.levels}"
            if xb - xa > 26 and x0 <= xm <= x1:
                draw.text((xm - 3 * len(label), y0 + 4), label, fill=_TEXT, font=font)
        if plan.cutoff is not None:
            x = layout.x_at_depth(plan.cutoff)
            if x0 <= x <= x1:
                draw.line([(x, y0), (x, y1)], fill=_CUTOFF, width=2)
                draw.text((min(x + 3, x1 - 40), y1 - 14), "cutoff", fill=_CUTOFF, font=font)
    u = f" {unit}" if unit else ""
    draw.text((x0, y1 + 6), fmt(lo) + u, fill=_TEXT, font=font)
    right = fmt(hi) + u
    draw.text((x1 - 6 * len(right), y1 + 6), right, fill=_TEXT, font=font)
    mid = f"{index.hits} hit px" + (" (log)" if log else "")
    draw.text(((x0 + x1) / 2 - 3 * len(mid), y1 + 6), mid, fill=_TEXT, font=font)
    return np.asarray(pil, dtype=np.uint8), layout


def _fmt_depth(d: float) -> str:
    return f"{d:.4g}"


# --------------------------------------------------------------------------- one edit's re-render


@dataclass(frozen=True)
class DepthRender:
    depth: NDArray[Any]  # (h, w) uint8 quantised preview
    test: NDArray[Any]  # (h, w, 3) uint8 test colours
    histogram: NDArray[Any]  # RGB plot
    layout: HistogramLayout
    counts: NDArray[Any]  # pixels per split, whole canvas
    usage: LevelUsage  # whole canvas


def render_depth(
    pv: Preview, plan: SplitPlan, log: bool = False, unit: str = "", selected: int | None = None
) -> DepthRender:
    """Everything the depth panel shows after an edit: previews at preview resolution, counts and
    levels used/wasted for the whole canvas."""
    if pv.depth is None or pv.index is None:
        raise ValueError(f"camera {pv.camera!r} has no depth canvas")
    quant = Quantized.of(pv.depth, pv.hit, plan)  # once, for both images
    q = quant.grey()
    t = quant.test_rgb() if any(s.test for s in plan.splits) else grey_rgb(q)
    hist, layout = histogram_image(pv.index, plan, log=log, unit=unit, selected=selected)
    return DepthRender(q, t, hist, layout, pv.index.split_counts(plan), pv.index.usage(plan))
