"""Depth analysis and quantisation: histograms, suggested cuts, split plans -> 8-bit depth maps.

Quantisation (near = white). For a pixel of depth d in split i (start s, end e, n levels, offset o
= the levels of the splits before it)::

    grey = 255 - (o + min(n - 1, floor(t * n)))      t = (d - s) / (e - s)           "linear"
                                                     t = (1/s - 1/d) / (1/s - 1/e)   "inverse"

A split with n = 0 levels is black. Depth below the first start counts as the first split's
nearest level. Black (0) also for depth beyond the last split's end, at or past the cutoff, and
for no-hit pixels. Everything is vectorised over the whole canvas.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from . import blocks
from .errors import CanvasError, PlanError, SplitError
from .palette import default_test_colour, region_color
from .params import PlanParams
from .splits import TOTAL_LEVELS, Split, SplitPlan, largest_remainder, parse_colour

_T = TypeVar("_T", bound=np.generic)

if TYPE_CHECKING:
    from .canvas import CanvasSet


FloatArray = NDArray[np.floating[Any]]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.integer[Any]]
_Arrays = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]


def _arrays(plan: SplitPlan) -> _Arrays:
    starts = np.array([s.start for s in plan.splits], dtype=np.float64)
    ends = np.array([s.end for s in plan.splits], dtype=np.float64)
    levels = np.array([s.levels for s in plan.splits], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(levels)[:-1])).astype(np.int64)
    return starts, ends, levels, offsets


#: Pixels per block of the vectorised quantiser: temporaries stay in cache instead of RAM.
BLOCK = 1 << 16


def split_index(
    depth: FloatArray, hit: BoolArray | None, plan: SplitPlan
) -> tuple[NDArray[np.intp], BoolArray]:
    """Per pixel: the split it falls in, and whether it is quantised at all (hit, not beyond the
    last end, before the cutoff)."""
    _, ends, _, _ = _arrays(plan)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(depth) & (depth <= ends[-1])
        if hit is not None:
            valid &= hit
        if plan.cutoff is not None:
            valid &= depth < plan.cutoff
    idx = np.searchsorted(ends[:-1], depth, side="right")
    np.minimum(idx, len(ends) - 1, out=idx)  # NaN sorts last
    return idx, valid


@dataclass(frozen=True)
class _Tables:
    """Per-split constants of the level function, computed once per plan (the same float64
    operations the formula in the module doc does per pixel, so results are bit-identical)."""

    bounds: NDArray[np.float64]  # ends of all splits but the last (searchsorted)
    last_end: np.float64  # a numpy scalar, compared with the depth exactly as before (see _index_block)
    start: NDArray[np.float64]  # linear: start; inverse: 1 / start
    width: NDArray[np.float64]  # linear: end - start; inverse: 1 / start - 1 / end
    levels: NDArray[np.float64]
    top: NDArray[np.float64]  # levels - 1
    base: NDArray[np.float64]  # offset + 1: index of the split's nearest level
    zero_split: NDArray[np.float64] | None  # TOTAL_LEVELS + 1 + k for 0-level splits (None if none)
    inverse: bool

    @classmethod
    def of(cls, plan: SplitPlan) -> _Tables:
        starts, ends, levels, offsets = _arrays(plan)
        inverse = plan.curve == "inverse"
        with np.errstate(divide="ignore", invalid="ignore"):
            start = 1.0 / starts if inverse else starts
            width = (1.0 / starts) - (1.0 / ends) if inverse else ends - starts
        zero = None
        if (levels == 0).any():
            zero = np.where(levels > 0, np.nan, TOTAL_LEVELS + 1 + np.arange(len(levels))).astype(np.float64)
        return cls(
            ends[:-1],
            ends[-1],
            start,
            width,
            levels.astype(np.float64),
            (levels - 1).astype(np.float64),
            (offsets + 1).astype(np.float64),
            zero,
            inverse,
        )


def _index_block(
    d: FloatArray, hit: BoolArray | None, cutoff: float | None, tb: _Tables
) -> NDArray[np.uint16]:
    """Codes + 1 of one block of pixels (uint16; 0 = black)."""
    d64 = d.astype(np.float64)
    idx = np.searchsorted(tb.bounds, d64, side="right")
    np.minimum(idx, tb.levels.size - 1, out=idx)  # NaN sorts last
    with np.errstate(invalid="ignore", divide="ignore"):
        # the comparisons on the depth as given (float32 from a file), with the same operand types
        # as always: numpy's casting rules for them decide the edge pixels
        valid = np.isfinite(d)
        valid &= d <= tb.last_end
        if hit is not None:
            valid &= hit
        if cutoff is not None:
            valid &= d < cutoff
        if tb.inverse:
            t = np.divide(1.0, d64)
            np.subtract(tb.start.take(idx), t, out=t)
        else:
            t = np.subtract(d64, tb.start.take(idx))
        t /= tb.width.take(idx)
        np.clip(t, 0.0, 1.0, out=t)
        np.nan_to_num(t, copy=False)
        t *= tb.levels.take(idx)
        np.floor(t, out=t)
        np.minimum(t, tb.top.take(idx), out=t)
        t += tb.base.take(idx)
        if tb.zero_split is not None:
            z = tb.zero_split.take(idx)
            np.copyto(t, z, where=~np.isnan(z))
    t *= valid
    return t.astype(np.uint16)


def level_codes(depth: FloatArray, hit: BoolArray | None, plan: SplitPlan) -> NDArray[np.int16]:
    """Per pixel, int16: the global level 0..255 (0 = nearest); 256 + k for a pixel in split k
    that has 0 levels; -1 where black for any other reason (no hit, beyond the end, cutoff)."""
    return Quantized.of(depth, hit, plan).codes


def _quantize(
    depth: FloatArray, hit: BoolArray | None, plan: SplitPlan
) -> tuple[NDArray[np.uint16], NDArray[np.int64]]:
    """Codes + 1 of every pixel (uint16) and the pixel count of each, block by block."""
    tb = _Tables.of(plan)
    flat_d = depth.reshape(-1)
    flat_h = None if hit is None else hit.reshape(-1)
    out = np.empty(flat_d.shape, np.uint16)
    ncodes = TOTAL_LEVELS + len(plan.splits) + 1
    starts = range(0, flat_d.size, BLOCK)
    workers = _workers(flat_d.size)

    def run(k: int) -> NDArray[np.int64]:
        """Every ``workers``-th block from block k: numpy releases the GIL in these loops."""
        counts = np.zeros(ncodes, np.int64)
        for a in starts[k::workers]:  # blocks of pixels, not pixels
            b = a + BLOCK
            blk = _index_block(flat_d[a:b], None if flat_h is None else flat_h[a:b], plan.cutoff, tb)
            out[a:b] = blk
            counts += np.bincount(blk, minlength=ncodes)
        return counts

    if workers == 1:
        return out.reshape(depth.shape), run(0)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(run, range(workers)))
    return out.reshape(depth.shape), np.sum(parts, axis=0, dtype=np.int64)


def _workers(pixels: int) -> int:
    """Threads for the quantiser: one per core (at most 4), one for small canvases."""
    return 1 if pixels < 4 * BLOCK else max(1, min(4, os.cpu_count() or 1))


def _read_only(a: object) -> bool:
    return isinstance(a, np.ndarray) and not a.flags.writeable


def _forget(ref: object) -> None:
    if _LAST and _LAST[0][0] is ref:
        _LAST.clear()


#: The last quantisation of read-only canvases: (depth ref, hit ref, plan, result); one slot.
_LAST: list[tuple[Any, Any, SplitPlan, Quantized]] = []


@dataclass(frozen=True)
class Quantized:
    """A depth canvas quantised once; the depth map, test and region images and the level usage
    are all table look-ups on the same per-pixel codes.

    ``index`` holds code + 1 per pixel as uint16 (0 = black for no hit / out of range / cutoff,
    1..256 = global level 0..255, 257 + k = a pixel of split k when that split has 0 levels), so
    every image is one ``np.take`` from a small table; ``per_code`` counts the pixels of each.
    """

    plan: SplitPlan
    index: NDArray[np.uint16]
    per_code: NDArray[np.int64]

    @classmethod
    def of(cls, depth: FloatArray, hit: BoolArray | None, plan: SplitPlan) -> Quantized:
        """Quantise; the same read-only arrays with an equal plan right after (``plan`` makes the
        depth unit, then the canvas-size test image) reuse the last result instead of a second pass."""
        for d_ref, h_ref, p, q in _LAST:
            same_hit = h_ref is None if hit is None else h_ref is not None and h_ref() is hit
            if d_ref() is depth and same_hit and p == plan:
                return q
        index, counts = _quantize(np.asarray(depth), None if hit is None else np.asarray(hit), plan)
        q = cls(plan, index, counts)
        _LAST.clear()
        if _read_only(depth) and (hit is None or _read_only(hit)):  # canvases are never edited
            d_ref = weakref.ref(depth, _forget)  # the result goes when the canvas goes
            _LAST.append((d_ref, None if hit is None else weakref.ref(hit), plan, q))
        return q

    @property
    def codes(self) -> NDArray[np.int16]:
        """Per pixel, int16: the level 0..255, 256 + k in a 0-level split k, -1 for black."""
        codes = self.index.astype(np.int16)
        codes -= 1
        return codes

    def _split_of_code(self) -> NDArray[np.int32]:
        """Split number for each code + 1 (index 0 is code -1 -> -1)."""
        n = len(self.plan.splits)
        table = np.full(TOTAL_LEVELS + n + 1, -1, np.int32)
        _, _, levels, offsets = _arrays(self.plan)
        for k in range(n):
            table[1 + offsets[k] : 1 + offsets[k] + levels[k]] = k
            table[1 + TOTAL_LEVELS + k] = k
        return table

    def _lookup(self, table: NDArray[_T]) -> NDArray[_T]:
        out: NDArray[_T] = blocks.take(table, self.index)
        return out

    def _grey_table(self) -> NDArray[np.uint8]:
        table = np.zeros(TOTAL_LEVELS + len(self.plan.splits) + 1, np.uint8)
        table[1 : TOTAL_LEVELS + 1] = 255 - np.arange(TOTAL_LEVELS)
        return table

    def grey(self) -> NDArray[np.uint8]:
        return self._lookup(self._grey_table())

    def level_index(self) -> NDArray[np.int16]:
        lv = self.codes
        lv[lv >= TOTAL_LEVELS] = -1
        return lv

    def split_labels(self) -> NDArray[np.int32]:
        """Per pixel: its split number, or -1 where it is black for being no hit / out of range."""
        return self._lookup(self._split_of_code())

    def test_rgb(self) -> NDArray[np.uint8]:
        return self._lookup(self._test_table())

    def test_image(self) -> blocks.TableImage:
        """:meth:`test_rgb`, looked up a strip at a time by the PNG encoder."""
        return blocks.TableImage(self._test_table(), self.index, self.per_code)

    def _test_table(self) -> NDArray[np.uint8]:
        table = np.repeat(self._grey_table()[:, None], 3, axis=1)
        split = self._split_of_code()
        for k, s in enumerate(self.plan.splits):  # a split without a colour gets a distinct default
            table[split == k] = parse_colour(s.test) if s.test else default_test_colour(k)
        return table

    def region_labels(self) -> NDArray[np.int32]:
        split = self._split_of_code()
        regions = np.array([-1 if s.region is None else s.region for s in self.plan.splits] + [-1], np.int32)
        return self._lookup(regions[split])

    def region_rgb(self) -> NDArray[np.uint8]:
        return self._lookup(self._region_table())

    def region_image(self) -> blocks.TableImage:
        """:meth:`region_rgb`, looked up a strip at a time by the PNG encoder."""
        return blocks.TableImage(self._region_table(), self.index, self.per_code)

    def _region_table(self) -> NDArray[np.uint8]:
        split = self._split_of_code()
        table = np.zeros((len(split), 3), np.uint8)
        for k, s in enumerate(self.plan.splits):
            if s.region is not None:
                table[split == k] = region_color(s.region)
        return table

    def counts(self) -> NDArray[np.int64]:
        """Pixels per split (quantised pixels; below the first start counts in split 0)."""
        n = len(self.plan.splits)
        split = self._split_of_code()
        used = split >= 0
        return np.bincount(split[used], weights=self.per_code[used], minlength=n).astype(np.int64)

    def usage(self) -> LevelUsage:
        present = self.per_code[1 : TOTAL_LEVELS + 1] > 0
        _, _, levels, offsets = _arrays(self.plan)
        per = tuple((int(n), int(present[o : o + n].sum())) for n, o in zip(levels, offsets, strict=True))
        return LevelUsage(allocated=self.plan.total_levels, used=int(present.sum()), per_split=per)


def level_index(depth: NDArray[Any], hit: NDArray[Any] | None, plan: SplitPlan) -> NDArray[Any]:
    """Per pixel: the global level 0..255 (0 = nearest), or -1 for black. int16."""
    return Quantized.of(depth, hit, plan).level_index()


def quantize(depth: NDArray[Any], hit: NDArray[Any] | None, plan: SplitPlan) -> NDArray[Any]:
    """The 8-bit depth map (H, W) uint8, near = white."""
    return Quantized.of(depth, hit, plan).grey()


@dataclass(frozen=True)
class LevelUsage:
    allocated: int
    used: int
    per_split: tuple[tuple[int, int], ...]  # (allocated, used) per split

    @property
    def wasted(self) -> int:
        return self.allocated - self.used

    def describe(self) -> str:
        return f"levels used {self.used}/{self.allocated}, wasted {self.wasted}"


def level_usage(depth: NDArray[Any], hit: NDArray[Any] | None, plan: SplitPlan) -> LevelUsage:
    """Levels that pixels land on vs. levels allocated; wasted = allocated levels no pixel uses."""
    return Quantized.of(depth, hit, plan).usage()


def split_counts(depth: NDArray[Any], hit: NDArray[Any] | None, plan: SplitPlan) -> NDArray[Any]:
    """Pixels per split (pixels that are quantised; below the first start counts in split 0)."""
    return Quantized.of(depth, hit, plan).counts()


def test_image(depth: NDArray[Any], hit: NDArray[Any] | None, plan: SplitPlan) -> NDArray[Any]:
    """RGB preview: each split painted in its ``test`` colour (default: a distinct :func:`default_test_colour`)."""
    return Quantized.of(depth, hit, plan).test_rgb()


def split_region_labels(depth: NDArray[Any], hit: NDArray[Any] | None, plan: SplitPlan) -> NDArray[Any]:
    """Per pixel: the ``region`` flag of its split, or -1 (unassigned)."""
    return Quantized.of(depth, hit, plan).region_labels()


def region_image(depth: NDArray[Any], hit: NDArray[Any] | None, plan: SplitPlan) -> NDArray[Any]:
    """RGB: each split with a ``region`` flag in Regional Prompter's colour for that number; black elsewhere."""
    return Quantized.of(depth, hit, plan).region_rgb()


# --------------------------------------------------------------------------- histograms


@dataclass(frozen=True)
class Histogram:
    edges: NDArray[Any]  # bins + 1
    counts: NDArray[Any]  # bins
    hits: int  # hit pixels considered (below the cutoff)
    no_hit: int
    beyond_cutoff: int = 0

    @property
    def percent(self) -> NDArray[Any]:
        return self.counts * (100.0 / max(self.hits, 1))

    def describe(self) -> str:
        """Printed like the DDP shell's histogram: bin, percent, range."""
        extra = f", {self.beyond_cutoff} past the cutoff" if self.beyond_cutoff else ""
        if self.hits == 0:
            why = (
                "every hit pixel is at or past the cutoff"
                if self.beyond_cutoff
                else "the canvas has no hit pixel"
            )
            return f"no depth to histogram: {why}\n0 hit pixels, {self.no_hit} no-hit pixels{extra}"
        lines = [f"{'bin':>4}  {'percent':>8}  range"]
        for i, p in enumerate(self.percent):
            bar = "#" * int(round(p / 2))
            close = "]" if i == len(self.counts) - 1 else ")"
            lines.append(
                f"{i:>4}  {p:>7.2f}%  [{self.edges[i]:.6g}, {self.edges[i + 1]:.6g}{close}  {bar}".rstrip()
            )
        lines.append(f"{self.hits} hit pixels, {self.no_hit} no-hit pixels{extra}")
        return "\n".join(lines)


def histogram(
    depth: NDArray[Any],
    hit: NDArray[Any],
    bins: int = 20,
    cutoff: float | None = None,
    value_range: tuple[float, float] | None = None,
) -> Histogram:
    """Histogram of hit pixels (no-hit pixels never enter it; neither does depth at/past the cutoff)."""
    if bins < 1:
        raise ValueError("bins must be >= 1")
    d = depth[hit]
    no_hit = int(hit.size - d.size)
    beyond = 0
    if cutoff is not None:
        keep = d < cutoff
        beyond = int(d.size - np.count_nonzero(keep))
        d = d[keep]
    if d.size == 0:  # no bins to invent: an empty histogram over no range
        lo, hi = value_range or (math.nan, math.nan)
        return Histogram(np.linspace(lo, hi, bins + 1), np.zeros(bins, np.int64), 0, no_hit, beyond)
    lo, hi = value_range or (float(d.min()), float(d.max()))
    if hi <= lo:
        hi = lo + max(abs(lo) * 1e-6, 1e-6)
    counts, edges = np.histogram(d, bins=bins, range=(lo, hi))
    return Histogram(
        edges, counts.astype(np.int64), int(d.size), int(hit.size - np.count_nonzero(hit)), beyond
    )


# --------------------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class Suggestion:
    depth: float
    reason: str  # "valley" | "object-near" | "object-far"
    score: float = 0.0
    index: int | None = None  # pass index, for object suggestions


def suggest_cuts(
    depth: NDArray[Any],
    hit: NDArray[Any],
    object_index: NDArray[Any] | None = None,
    bins: int = 64,
    max_valleys: int = 6,
    min_coverage: float = 0.005,
) -> list[Suggestion]:
    """Cut points worth trying: histogram valleys, and each visible object's depth range.

    Valleys are local minima of a lightly smoothed histogram of hit depth, ranked by how much
    lower they are than the peaks on either side (prominence). With an index pass, each index
    covering at least ``min_coverage`` of the frame suggests cuts at its 2nd and 98th depth
    percentiles.
    """
    out: list[Suggestion] = []
    d = depth[hit]
    if d.size == 0:
        return out
    h = histogram(depth, hit, bins=bins)
    c = np.convolve(h.counts.astype(np.float64), np.array([1.0, 2.0, 1.0]) / 4, mode="same")
    centres = (h.edges[:-1] + h.edges[1:]) / 2
    if c.size >= 3:
        interior = np.arange(1, c.size - 1)
        is_min = (
            (c[interior] <= c[interior - 1])
            & (c[interior] <= c[interior + 1])
            & ((c[interior] < c[interior - 1]) | (c[interior] < c[interior + 1]))
        )
        cand = interior[is_min]
        left_peak = np.maximum.accumulate(c)
        right_peak = np.maximum.accumulate(c[::-1])[::-1]
        prom = np.minimum(left_peak[cand], right_peak[cand]) - c[cand]
        total = max(c.sum(), 1.0)
        order = np.argsort(-prom, kind="stable")
        for k in order[:max_valleys]:
            if prom[k] > 0:
                out.append(Suggestion(float(centres[cand[k]]), "valley", float(prom[k] / total)))
    if object_index is not None:
        for rng in object_depth_ranges(depth, hit, object_index, min_coverage=min_coverage):
            out.append(Suggestion(rng.near, "object-near", rng.coverage, rng.index))
            out.append(Suggestion(rng.far, "object-far", rng.coverage, rng.index))
    return out


@dataclass(frozen=True)
class ObjectRange:
    index: int
    pixels: int
    coverage: float
    near: float  # 2nd percentile of depth
    median: float
    far: float  # 98th percentile


def object_depth_ranges(
    depth: NDArray[Any], hit: NDArray[Any], object_index: NDArray[Any], min_coverage: float = 0.0
) -> list[ObjectRange]:
    """Depth range of each integer index over its hit pixels, sorted nearest first (vectorised:
    one sort by (index, depth))."""
    with np.errstate(invalid="ignore"):
        ids = np.rint(object_index).astype(np.int64)
    ok = hit & np.isfinite(object_index) & (np.abs(object_index - ids) < 0.01)
    ids, d = ids[ok], depth[ok].astype(np.float64)
    if ids.size == 0:
        return []
    order = np.lexsort((d, ids))
    ids, d = ids[order], d[order]
    uniq, first, count = np.unique(ids, return_index=True, return_counts=True)
    total = depth.size
    res = []
    for u, f, n in zip(uniq, first, count, strict=True):
        cov = n / total
        if cov < min_coverage:
            continue
        seg = d[f : f + n]
        res.append(
            ObjectRange(
                int(u),
                int(n),
                float(cov),
                float(seg[int(0.02 * (n - 1))]),
                float(seg[(n - 1) // 2]),
                float(seg[int(0.98 * (n - 1))]),
            )
        )
    return sorted(res, key=lambda r: r.median)


# --------------------------------------------------------------------------- automatic preset


def _hit_blocks(depth: NDArray[Any], hit: NDArray[Any]) -> Iterator[NDArray[Any]]:
    """The hit depths, block by block (as stored; no canvas-sized copy)."""
    flat_d, flat_h = depth.reshape(-1), hit.reshape(-1)
    for a in range(0, flat_d.size, blocks.BLOCK):
        yield flat_d[a : a + blocks.BLOCK][flat_h[a : a + blocks.BLOCK]]


def _hit_range(depth: NDArray[Any], hit: NDArray[Any]) -> tuple[float, float]:
    """(min, max) of the hit depths (some pixel is hit)."""
    lo, hi = math.inf, -math.inf
    for d in _hit_blocks(depth, hit):
        if d.size:
            lo, hi = min(lo, float(d.min())), max(hi, float(d.max()))
    return lo, hi


def _disparity_histogram(
    depth: NDArray[Any], hit: NDArray[Any], bins: int, span: tuple[float, float]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """``np.histogram(1 / depth[hit] (float64), bins, span)``, block by block: each pixel falls
    in the bin it falls in over the whole canvas (the bins are fixed by ``span``)."""
    counts = np.zeros(bins, np.int64)
    edges = np.histogram_bin_edges(np.zeros(0), bins=bins, range=span)
    for d in _hit_blocks(depth, hit):
        got, edges = np.histogram(1.0 / d.astype(np.float64), bins=bins, range=span)
        counts += got
    return counts, edges


def auto_plan(
    depth: NDArray[Any],
    hit: NDArray[Any],
    curve: str = "inverse",
    bins: int = 256,
    min_gap: float = 0.04,
) -> SplitPlan:
    """A sensible automatic split plan over the hit depth range, with all 256 levels.

    Why this shape: ControlNet's depth models were trained on MiDaS-style maps, which are
    inverse depth (disparity), so levels are spaced evenly in 1/d ("inverse" curve). Where the
    scene has an empty depth gap (no pixel over at least ``min_gap`` of the disparity range,
    e.g. between a figure and a far wall) the gap becomes its own split with 0 levels, so no
    level is wasted on it; the occupied splits share all 256 levels by their disparity width,
    which keeps the mapping continuous across them.
    """
    if not hit.any():
        raise SplitError(
            "the depth canvas has no hit pixels (all background): there is no depth range to split"
        )
    lo, hi = _hit_range(depth, hit)
    if hi <= lo or curve != "inverse" or lo <= 0:
        return SplitPlan.single(lo, hi, curve=curve if lo > 0 else "linear")
    dlo, dhi = 1.0 / hi, 1.0 / lo
    counts, edges = _disparity_histogram(depth, hit, bins, (dlo, dhi))
    empty = counts == 0
    # runs of empty bins
    change = np.diff(np.concatenate(([0], empty.astype(np.int8), [0])))
    run_start, run_end = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
    gaps = [(a, b) for a, b in zip(run_start, run_end, strict=True) if (b - a) / bins >= min_gap]
    if not gaps:
        return SplitPlan.single(lo, hi, curve="inverse")
    # boundaries in disparity (far -> near), then convert to depth (near -> far)
    cuts_disp = sorted({float(edges[a]) for a, _ in gaps} | {float(edges[b]) for _, b in gaps})
    bounds_disp = [dhi, *sorted(cuts_disp, reverse=True), dlo]
    bounds = [1.0 / x for x in bounds_disp]
    bounds[0], bounds[-1] = lo, hi
    gap_set = {(float(edges[b]), float(edges[a])) for a, b in gaps}  # (near disp, far disp)
    splits = []
    widths = []
    for k in range(len(bounds) - 1):
        near_disp, far_disp = bounds_disp[k], bounds_disp[k + 1]
        is_gap = (near_disp, far_disp) in gap_set
        widths.append(0.0 if is_gap else near_disp - far_disp)
        splits.append((bounds[k], bounds[k + 1], is_gap))
    levels = largest_remainder(np.array(widths), TOTAL_LEVELS)
    return SplitPlan(
        tuple(
            Split(s, e, int(n), label="gap" if g else None)
            for (s, e, g), n in zip(splits, levels, strict=True)
        ),
        curve="inverse",
    )


# --------------------------------------------------------------------------- the plan of a camera
# (here, not in lib_scene.plan, so the depth command does not import the whole planner)


def resolve_splits(cs: CanvasSet, params: PlanParams, preset: SplitPlan | None) -> SplitPlan | None:
    """The split plan a camera's depth map uses: the preset, ``params.splits``, else the automatic one
    (None without a depth canvas or without hit pixels)."""
    if cs.depth is None:
        return None
    if preset is not None:
        return preset
    if isinstance(params.splits, dict):
        return SplitPlan.from_dict(params.splits, source="params.splits")
    if isinstance(params.splits, str):
        raise PlanError(
            "params.splits names a preset file; load it first (lib_scene.request.resolve does) and pass it as "
            "build_plan(..., preset=...)",
            params.splits,
        )
    if cs.hit is None or not cs.hit.any():
        return None
    return auto_plan(cs.depth, cs.hit)


def depth_splits(cs: CanvasSet, preset: SplitPlan | None, cutoff: float | None = None) -> SplitPlan:
    """The split plan the depth commands (CLI ``depth``, the split shell) edit: :func:`resolve_splits`,
    with a clear error when the camera has no depth canvas or no hit pixel; ``cutoff`` overrides."""
    cs.require_depth()
    plan = resolve_splits(cs, PlanParams(), preset)
    if plan is None:
        raise CanvasError(
            f"camera {cs.camera!r}: no pixel of the depth canvas hit anything, so there is no depth range "
            "for an automatic split plan; check the render, or give --splits",
            cs.primary_path,
        )
    return plan.set_cutoff(cutoff) if cutoff is not None else plan
