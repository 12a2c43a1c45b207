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
from dataclasses import dataclass

import numpy as np

from .errors import SplitError
from .palette import default_test_colour, region_color
from .splits import TOTAL_LEVELS, Split, SplitPlan, largest_remainder, parse_colour


def _arrays(plan: SplitPlan):
    starts = np.array([s.start for s in plan.splits], dtype=np.float64)
    ends = np.array([s.end for s in plan.splits], dtype=np.float64)
    levels = np.array([s.levels for s in plan.splits], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(levels)[:-1]))
    return starts, ends, levels, offsets


#: Pixels per block of the vectorised quantiser: temporaries stay in cache instead of RAM.
BLOCK = 1 << 18


def split_index(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> tuple[np.ndarray, np.ndarray]:
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


def _codes_block(d: np.ndarray, hit: np.ndarray | None, plan: SplitPlan, arrays) -> np.ndarray:
    starts, ends, levels, offsets = arrays
    nsplit = len(starts)
    idx = np.searchsorted(ends[:-1], d, side="right")
    np.minimum(idx, nsplit - 1, out=idx)
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.isfinite(d) & (d <= ends[-1])
        if hit is not None:
            valid &= hit
        if plan.cutoff is not None:
            valid &= d < plan.cutoff
        s = starts[idx]
        d64 = d.astype(np.float64)
        if plan.curve == "inverse":
            t = 1.0 / s
            t -= 1.0 / d64
            t /= (1.0 / s) - (1.0 / ends[idx])
        else:
            t = d64 - s
            t /= ends[idx] - s
        np.clip(t, 0.0, 1.0, out=t)
        np.nan_to_num(t, copy=False)
    n = levels[idx]
    t *= n
    lvl = np.minimum(n - 1, np.floor(t).astype(np.int64))
    lvl += offsets[idx]
    # levels 0..255; a pixel in a 0-level split k is 256 + k (black, but its split is kept); -1 = black
    code = np.where(n > 0, lvl, TOTAL_LEVELS + idx)
    code[~valid] = -1
    return code.astype(np.int16)


def level_codes(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
    """Per pixel, int16: the global level 0..255 (0 = nearest); 256 + k for a pixel in split k
    that has 0 levels; -1 where black for any other reason (no hit, beyond the end, cutoff)."""
    arrays = _arrays(plan)
    flat_d = depth.reshape(-1)
    flat_h = None if hit is None else hit.reshape(-1)
    out = np.empty(flat_d.shape, np.int16)
    for a in range(0, flat_d.size, BLOCK):  # blocks of pixels, not pixels
        b = a + BLOCK
        out[a:b] = _codes_block(flat_d[a:b], None if flat_h is None else flat_h[a:b], plan, arrays)
    return out.reshape(depth.shape)


@dataclass(frozen=True)
class Quantized:
    """A depth canvas quantised once; the depth map, test and region images and the level usage
    are all table look-ups on the same per-pixel codes."""

    plan: SplitPlan
    codes: np.ndarray

    @classmethod
    def of(cls, depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> Quantized:
        return cls(plan, level_codes(depth, hit, plan))

    def _split_of_code(self) -> np.ndarray:
        """Split number for each code + 1 (index 0 is code -1 -> -1)."""
        n = len(self.plan.splits)
        table = np.full(TOTAL_LEVELS + n + 1, -1, np.int32)
        _, _, levels, offsets = _arrays(self.plan)
        for k in range(n):
            table[1 + offsets[k] : 1 + offsets[k] + levels[k]] = k
            table[1 + TOTAL_LEVELS + k] = k
        return table

    def _lookup(self, table: np.ndarray) -> np.ndarray:
        return table[self.codes.astype(np.int32) + 1]

    def grey(self) -> np.ndarray:
        table = np.zeros(TOTAL_LEVELS + len(self.plan.splits) + 1, np.uint8)
        table[1 : TOTAL_LEVELS + 1] = 255 - np.arange(TOTAL_LEVELS)
        return self._lookup(table)

    def level_index(self) -> np.ndarray:
        lv = self.codes.copy()
        lv[lv >= TOTAL_LEVELS] = -1
        return lv

    def split_labels(self) -> np.ndarray:
        """Per pixel: its split number, or -1 where it is black for being no hit / out of range."""
        return self._lookup(self._split_of_code())

    def test_rgb(self) -> np.ndarray:
        grey = np.zeros(TOTAL_LEVELS + len(self.plan.splits) + 1, np.uint8)
        grey[1 : TOTAL_LEVELS + 1] = 255 - np.arange(TOTAL_LEVELS)
        table = np.repeat(grey[:, None], 3, axis=1)
        split = self._split_of_code()
        for k, s in enumerate(self.plan.splits):  # a split without a colour gets a distinct default
            table[split == k] = parse_colour(s.test) if s.test else default_test_colour(k)
        return self._lookup(table)

    def region_labels(self) -> np.ndarray:
        split = self._split_of_code()
        regions = np.array([-1 if s.region is None else s.region for s in self.plan.splits] + [-1], np.int32)
        return self._lookup(regions[split])

    def region_rgb(self) -> np.ndarray:
        split = self._split_of_code()
        table = np.zeros((len(split), 3), np.uint8)
        for k, s in enumerate(self.plan.splits):
            if s.region is not None:
                table[split == k] = region_color(s.region)
        return self._lookup(table)

    def counts(self) -> np.ndarray:
        """Pixels per split (quantised pixels; below the first start counts in split 0)."""
        n = len(self.plan.splits)
        per_code = np.bincount(self.codes.reshape(-1).astype(np.int32) + 1, minlength=TOTAL_LEVELS + n + 1)
        split = self._split_of_code()
        used = split >= 0
        return np.bincount(split[used], weights=per_code[used], minlength=n).astype(np.int64)

    def usage(self) -> LevelUsage:
        per_code = np.bincount(self.codes.reshape(-1).astype(np.int32) + 1, minlength=TOTAL_LEVELS + 1)
        present = per_code[1 : TOTAL_LEVELS + 1] > 0
        _, _, levels, offsets = _arrays(self.plan)
        per = tuple((int(n), int(present[o : o + n].sum())) for n, o in zip(levels, offsets, strict=True))
        return LevelUsage(allocated=self.plan.total_levels, used=int(present.sum()), per_split=per)


def level_index(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
    """Per pixel: the global level 0..255 (0 = nearest), or -1 for black. int16."""
    return Quantized.of(depth, hit, plan).level_index()


def quantize(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
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


def level_usage(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> LevelUsage:
    """Levels that pixels land on vs. levels allocated; wasted = allocated levels no pixel uses."""
    return Quantized.of(depth, hit, plan).usage()


def split_counts(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
    """Pixels per split (pixels that are quantised; below the first start counts in split 0)."""
    return Quantized.of(depth, hit, plan).counts()


def test_image(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
    """RGB preview: each split painted in its ``test`` colour (default: a distinct :func:`default_test_colour`)."""
    return Quantized.of(depth, hit, plan).test_rgb()


def split_region_labels(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
    """Per pixel: the ``region`` flag of its split, or -1 (unassigned)."""
    return Quantized.of(depth, hit, plan).region_labels()


def region_image(depth: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
    """RGB: each split with a ``region`` flag in Regional Prompter's colour for that number; black elsewhere."""
    return Quantized.of(depth, hit, plan).region_rgb()


# --------------------------------------------------------------------------- histograms


@dataclass(frozen=True)
class Histogram:
    edges: np.ndarray  # bins + 1
    counts: np.ndarray  # bins
    hits: int  # hit pixels considered (below the cutoff)
    no_hit: int
    beyond_cutoff: int = 0

    @property
    def percent(self) -> np.ndarray:
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
    depth: np.ndarray,
    hit: np.ndarray,
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
    depth: np.ndarray,
    hit: np.ndarray,
    object_index: np.ndarray | None = None,
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
    depth: np.ndarray, hit: np.ndarray, object_index: np.ndarray, min_coverage: float = 0.0
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


def auto_plan(
    depth: np.ndarray,
    hit: np.ndarray,
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
    d = depth[hit].astype(np.float64)
    lo, hi = float(d.min()), float(d.max())
    if hi <= lo or curve != "inverse" or lo <= 0:
        return SplitPlan.single(lo, hi, curve=curve if lo > 0 else "linear")
    disp = 1.0 / d
    dlo, dhi = 1.0 / hi, 1.0 / lo
    counts, edges = np.histogram(disp, bins=bins, range=(dlo, dhi))
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
