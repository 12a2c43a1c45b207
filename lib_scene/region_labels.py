"""Per-pixel region labels from an index source: the object or material index pass, a Value AOV
holding the pass index (``aov:NAME``; EEVEE's workaround, cleaned), or the ``region`` flags of a
depth split plan. See :mod:`lib_scene.regions` for the pipeline."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import blocks
from .canvas import CanvasSet
from .cryptomatte import dominant_ids, object_codes, pick_layer
from .errors import RegionError
from .splits import SplitPlan

#: An AOV value is trusted when it lies this close to an integer.
AOV_TOLERANCE = 0.01
#: Larger index values are treated as garbage (Blender's pass index is a 16-bit short).
_MAX_ID = float(1 << 30)
SOURCES = ("auto", "index", "material", "splits", "cryptomatte")  # plus "aov:NAME", "cryptomatte:LAYER"

__all__ = [
    "AOV_TOLERANCE",
    "SOURCES",
    "clean_index_aov",
    "count_codes",
    "crypto_labels",
    "cv2_for",
    "cv2_or_none",
    "is_crypto",
    "pick_source",
    "source_labels",
]


def cv2_or_none() -> Any:
    """opencv when importable (it speeds up nearest fills and dilation), else None."""
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return cv2


#: From this many pixels an exact filter that opencv only speeds up imports opencv for it: its
#: import (25-100 ms) costs more than numpy's 3x3 minimum on a 1200² canvas (~10 ms).
CV2_MIN_PIXELS = 1 << 22


def cv2_for(pixels: int) -> Any:
    """opencv for an exact filter of ``pixels`` pixels: when already imported or the canvas is
    large (:data:`CV2_MIN_PIXELS`), else None (numpy gives the same result)."""
    return cv2_or_none() if pixels >= CV2_MIN_PIXELS or "cv2" in sys.modules else None


def _fill_nearest_numpy(ids: NDArray[Any], valid: NDArray[Any], values: NDArray[Any]) -> NDArray[Any]:
    """Frontier passes: each pass, every unfilled pixel with a filled 8-neighbour (filled before
    the pass) takes that neighbour's id; among several, the id closest to the pixel's own value
    (the majority of a two-object blend), then the first in a fixed neighbour order. Work per
    pass is proportional to the unfilled pixels."""
    h, w = ids.shape
    flat = ids.ravel().copy()
    filled = valid.ravel().copy()
    vals = values.ravel()
    todo = np.flatnonzero(~filled)
    offsets = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))
    while todo.size:
        y, x = np.divmod(todo, w)
        cand = np.empty((len(offsets), todo.size), dtype=flat.dtype)
        diff = np.full((len(offsets), todo.size), np.inf)
        for k, (dy, dx) in enumerate(offsets):
            ny, nx = y + dy, x + dx
            inb = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            nidx = np.where(inb, ny * w + nx, 0)
            ok = inb & filled[nidx]
            cand[k] = flat[nidx]
            with np.errstate(invalid="ignore"):
                d = np.abs(cand[k] - vals[todo])
            diff[k] = np.where(ok, np.nan_to_num(d, nan=1e30, posinf=1e30), np.inf)
        best = np.argmin(diff, axis=0)
        got = np.isfinite(diff[best, np.arange(todo.size)])
        if not got.any():
            break
        flat[todo[got]] = cand[best[got], np.flatnonzero(got)]
        filled[todo[got]] = True
        todo = todo[~got]
    out = flat.reshape(h, w)
    if todo.size:
        out.ravel()[todo] = -1
    return out


def _between_neighbours(v: NDArray[Any], tolerance: float) -> NDArray[Any]:
    """True where a pixel's value lies strictly between its two opposite neighbours along some
    axis (horizontal, vertical, either diagonal): the signature of an antialiased blend, e.g. 2.0
    on a one-pixel edge between objects 1 and 3, which is a whole number yet no object's id."""
    h, w = v.shape
    p = np.full((h + 2, w + 2), np.nan, dtype=np.float32)
    p[1:-1, 1:-1] = v
    out = np.zeros(v.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for (ay, ax), (by, bx) in (((1, 0), (1, 2)), ((0, 1), (2, 1)), ((0, 0), (2, 2)), ((0, 2), (2, 0))):
            a = p[ay : ay + h, ax : ax + w]
            b = p[by : by + h, bx : bx + w]
            lo, hi = np.fmin(a, b), np.fmax(a, b)
            out |= (lo < v - tolerance) & (v + tolerance < hi)
    return out


def clean_index_aov(values: NDArray[Any], tolerance: float = AOV_TOLERANCE) -> tuple[NDArray[Any], int]:
    """Integer ids from a pixel-filtered Value AOV.

    A pixel is trusted when its value is within ``tolerance`` of a whole number and does not lie
    strictly between its opposite neighbours along any axis (an antialiased edge between objects
    1 and 3 can read exactly 2.0). Every other pixel takes the id of its nearest trusted pixel
    (opencv's labelled distance transform when available, else :func:`_fill_nearest_numpy`).
    Returns (ids int32, number of pixels filled). With no trusted pixel at all every id is -1.
    """
    v = np.asarray(values, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        r = np.rint(v)
        valid = np.isfinite(v) & (np.abs(v - r) <= tolerance) & (np.abs(r) < _MAX_ID)
    valid &= ~_between_neighbours(v, tolerance)
    ids = np.where(valid, r, 0).astype(np.int32)
    n_bad = int(valid.size - np.count_nonzero(valid))
    if n_bad == 0:
        return ids, 0
    if not valid.any():
        return np.full(v.shape, -1, dtype=np.int32), 0
    cv2 = cv2_or_none()
    if cv2 is not None:
        src = (~valid).astype(np.uint8)  # zero pixels are the trusted ones
        _, lab = cv2.distanceTransformWithLabels(src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        # DIST_LABEL_PIXEL numbers the zero pixels 1.. in raster order
        trusted = ids[valid]
        return trusted[lab - 1], n_bad
    return _fill_nearest_numpy(ids, valid, v), n_bad


def _find_aov(cs: CanvasSet, name: str) -> tuple[str, NDArray[Any]]:
    if name in cs.aovs:
        return name, cs.aovs[name]

    def norm(s: str) -> str:
        return re.sub(r"[\s_\-.]", "", s).lower()

    for k, v in cs.aovs.items():
        if norm(k) == norm(name):
            return k, v
    have = ", ".join(sorted(cs.aovs)) or "none"
    raise RegionError(f"camera {cs.camera!r} has no AOV {name!r} (AOVs in the file: {have})", cs.primary_path)


_INDEX_AOV = re.compile(r"(?i)index")


def is_crypto(source: str) -> bool:
    """``cryptomatte`` or ``cryptomatte:LAYER``."""
    return source == "cryptomatte" or source.startswith("cryptomatte:")


def crypto_labels(cs: CanvasSet, source: str) -> tuple[NDArray[Any], dict[int, str], list[str]]:
    """Cryptomatte source: per-pixel object codes (int32, 0 none), code -> object name, warnings."""
    wanted = source.split(":", 1)[1] if ":" in source else ""
    if not cs.cryptomatte:
        raise RegionError(
            f"camera {cs.camera!r} has no Cryptomatte layer; enable View Layer > Passes > Cryptomatte > Object",
            cs.primary_path,
        )
    layer = pick_layer(cs.cryptomatte, wanted, cs.layer)
    codes, names, warnings = object_codes(layer, dominant_ids(layer))
    return codes, names, warnings


def pick_source(cs: CanvasSet, source: str = "auto", splits: SplitPlan | None = None) -> str:
    """Resolve ``auto``: a split plan whose splits carry region flags (the artist asked for
    regions from depth), else the object index when a sidecar gives its pass indices meaning,
    else Cryptomatte, else object index, else material index, else an AOV named like
    ``*index*``. Raises :class:`RegionError` when nothing fits."""
    src = (source or "auto").strip()
    if src.lower() in ("object", "objectindex", "indexob"):
        src = "index"
    if src.lower().startswith("cryptomatte"):
        src = "cryptomatte" + src[len("cryptomatte") :]
    if src != "auto":
        if src not in SOURCES and not src.startswith("aov:") and not is_crypto(src):
            raise RegionError(
                f"unknown index source {source!r}; use index, material, aov:NAME, cryptomatte[:LAYER] or splits"
            )
        return src
    if splits is not None and any(s.region is not None for s in splits.splits):
        return "splits"
    if cs.object_index is not None and cs.sidecar:
        return "index"
    if cs.cryptomatte:
        return "cryptomatte"
    if cs.object_index is not None:
        return "index"
    if cs.material_index is not None:
        return "material"
    scalar = [k for k, v in cs.aovs.items() if _INDEX_AOV.search(k) and np.ndim(v) == 2]
    if scalar:
        return f"aov:{sorted(scalar)[0]}"
    raise RegionError(
        f"camera {cs.camera!r} has no object or material index pass, no Cryptomatte, no index AOV"
        + (
            " and the split plan has no region flags"
            if splits is not None
            else " and no split plan was given"
        )
        + "; render an Object Index pass or flag depth splits as regions",
        cs.primary_path,
    )


def _index_labels(values: NDArray[Any]) -> tuple[NDArray[Any], int]:
    """Exact index pass -> codes (int32, 0 unassigned) and the count of non-integer pixels."""
    v = np.asarray(values, dtype=np.float32)
    flat = v.reshape(-1)
    lab = np.empty(flat.shape, np.int32)
    bad = 0
    with np.errstate(invalid="ignore"):
        for a in range(0, flat.size, blocks.BLOCK):  # blocks: no canvas-sized temporaries
            blk = flat[a : a + blocks.BLOCK]
            r = np.rint(blk)
            ok = np.isfinite(blk) & (np.abs(blk - r) <= AOV_TOLERANCE) & (np.abs(r) < _MAX_ID)
            bad += int(blk.size - np.count_nonzero(ok))
            lab[a : a + blocks.BLOCK] = np.where(ok & (r > 0), r, 0)
    return lab.reshape(v.shape), bad


def source_labels(
    cs: CanvasSet, source: str, splits: SplitPlan | None = None
) -> tuple[NDArray[Any], int, list[str]]:
    """Per-pixel codes for a resolved source: (codes int32 >= 0 with 0 = unassigned, offset,
    warnings); the label of code c > 0 is ``c - offset`` (offset 1 for split region flags, which
    may be 0; 0 for pass indices, where 0 is the background)."""
    warnings: list[str] = []
    if source in ("index", "material"):
        arr = cs.object_index if source == "index" else cs.material_index
        if arr is None:
            kind = "Object Index (IndexOB)" if source == "index" else "Material Index (IndexMA)"
            raise RegionError(f"camera {cs.camera!r} has no {kind} pass", cs.primary_path)
        lab, bad = _index_labels(arr)
        if bad:
            warnings.append(
                f"{bad} pixels of the {source} pass are not whole numbers and count as unassigned "
                "(an antialiased pass? use aov:NAME for pixel-filtered index AOVs)"
            )
        return lab, 0, warnings
    if source.startswith("aov:"):
        name, arr = _find_aov(cs, source[4:])
        if np.ndim(arr) == 3:
            warnings.append(f"AOV {name!r} is a colour AOV; its first channel is read as the index")
            arr = arr[..., 0]
        ids, filled = clean_index_aov(arr)
        if filled:
            warnings.append(
                f"AOV {name!r}: {filled} antialiased pixels (not within {AOV_TOLERANCE} of a whole number, "
                "or between their neighbours' values) took the index of their nearest clean neighbour"
            )
        np.maximum(ids, 0, out=ids)
        return ids, 0, warnings
    if is_crypto(source):
        codes, _names, warnings = crypto_labels(cs, source)
        return codes, 0, warnings
    if source == "splits":
        if splits is None:
            raise RegionError("source 'splits' needs a split plan with region flags (--splits PRESET)")
        if not any(s.region is not None for s in splits.splits):
            raise RegionError("the split plan has no region flags; flag splits with region=N first")
        from .depth import split_region_labels

        depth = cs.require_depth()
        return split_region_labels(depth, cs.hit, splits).astype(np.int32) + 1, 1, warnings
    raise RegionError(f"unknown index source {source!r}")


def count_codes(codes: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """(keys, values, counts, codes) of the codes > 0 present: ``keys`` are their values in the
    returned ``codes`` array, ``values`` the original codes. Codes too large for a bincount are
    compacted to 1..K with np.unique (then keys != values)."""
    top = int(codes.max()) if codes.size else 0
    if top < (1 << 22):
        counts = blocks.bincount(codes, minlength=top + 1)
        present = np.flatnonzero(counts[1:]) + 1
        return present, present, counts[present], codes
    uniq, inv, counts = np.unique(codes.ravel(), return_inverse=True, return_counts=True)
    compact = inv.reshape(codes.shape).astype(np.int32)
    if uniq[0] != 0:  # no unassigned pixel: shift so that code 0 stays "unassigned"
        compact += 1
        uniq = np.concatenate(([0], uniq))
        counts = np.concatenate(([0], counts))
    keys = np.arange(1, uniq.size)
    return keys, uniq[keys], counts[keys], compact


# --------------------------------------------------------------------------- per-camera statistics


@dataclass(frozen=True)
class RegionStats:
    """One camera's labels from one resolved source, counted once: what a threshold change (the
    tab's slider) re-thresholds instead of relabelling the whole canvas. ``keys``/``values``/
    ``counts``/``codes`` as :func:`count_codes`; ``depths``: each present key's hit depths, sorted
    (None when not asked for or without a depth canvas)."""

    camera: str
    source: str
    codes: NDArray[Any]
    keys: NDArray[Any]
    values: NDArray[Any]
    counts: NDArray[Any]
    offset: int
    warnings: tuple[str, ...]
    depths: dict[int, NDArray[Any]] | None = None

    def medians(self, keys_of_group: list[list[int]]) -> list[float | None]:
        """Exact median hit depth of each group of keys (the same values as a median over the
        group's pixels: the same multiset); None for a group without hit pixels."""
        assert self.depths is not None
        out: list[float | None] = []
        for group in keys_of_group:
            segs = [self.depths[k] for k in group if self.depths[k].size]
            c = sum(int(s.size) for s in segs)
            if c == 0:
                out.append(None)
                continue
            a, b = (c - 1) // 2, c // 2
            part = segs[0] if len(segs) == 1 else np.partition(np.concatenate(segs), (a, b))
            out.append((float(part[a]) + float(part[b])) / 2.0)
        return out


def _sorted_depths(cs: CanvasSet, codes: NDArray[Any], keys: NDArray[Any]) -> dict[int, NDArray[Any]] | None:
    if cs.depth is None:
        return None
    sel = codes > 0
    if cs.hit is not None:
        sel &= cs.hit
    else:
        with np.errstate(invalid="ignore"):
            sel &= np.isfinite(cs.depth) & (cs.depth < 1e9)
    c, d = codes[sel], np.asarray(cs.depth)[sel]
    order = np.argsort(c, kind="stable")
    c, d = c[order], d[order]
    ends = np.searchsorted(c, keys, side="right")
    starts = np.searchsorted(c, keys, side="left")
    return {int(k): np.sort(d[a:e]) for k, a, e in zip(keys, starts, ends, strict=True)}


def region_stats(
    cs: CanvasSet, source: str = "auto", splits: SplitPlan | None = None, depths: bool = True
) -> RegionStats:
    """The camera's labels for ``source`` (resolved with :func:`pick_source`), counted, and with
    ``depths`` each label's sorted hit depths (a one-off sort; every re-threshold then reads its
    medians without touching the canvas)."""
    src = pick_source(cs, source, splits)
    codes, offset, warnings = source_labels(cs, src, splits)
    if codes.shape != (cs.height, cs.width):
        raise RegionError(
            f"{src} labels are {codes.shape[::-1]}, the canvas {cs.width}x{cs.height}", cs.primary_path
        )
    keys, values, counts, codes = count_codes(codes)
    per_key = _sorted_depths(cs, codes, keys) if depths else None
    return RegionStats(cs.camera, src, codes, keys, values, counts, offset, tuple(warnings), per_key)
