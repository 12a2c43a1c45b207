"""Region numbers grown into the seams between regions (8-neighbour dilation into unassigned
pixels), painted as the mask; and the same numbers at a preview grid's pixels only
(:func:`grow_at`), without a pass over the whole canvas."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import blocks, region_labels
from .palette import region_palette

SENTINEL = np.uint16(65535)


def _min3x3(lab: NDArray[Any], cv2: Any) -> NDArray[Any]:
    """3x3 minimum filter (border = +inf) of a uint16 array (with opencv's erode when given)."""
    if cv2 is not None:
        out: NDArray[Any] = cv2.erode(
            lab, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=65535
        )
        return out
    h, w = lab.shape
    p = np.full((h + 2, w + 2), SENTINEL, dtype=np.uint16)
    p[1:-1, 1:-1] = lab
    out = lab.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            np.minimum(out, p[dy : dy + h, dx : dx + w], out=out)
    return out


def grow_regions(lab: NDArray[Any], grow: int, in_place: bool = False) -> NDArray[Any]:
    """``grow`` passes of 8-neighbour dilation of region numbers (uint16, 65535 = unassigned) into
    unassigned pixels only; a pixel reached by several regions in one pass takes the lowest number.
    Identical with and without opencv (opencv only computes the same 3x3 minimum faster).
    ``in_place``: grow ``lab`` itself (a caller's own temporary) instead of a copy."""
    out = lab if in_place else lab.copy()
    cv2 = region_labels.cv2_for(lab.size)
    for _ in range(max(0, int(grow))):
        if not _grow_pass(out, cv2):
            break
    return out


def _grow_pass(out: NDArray[Any], cv2: Any) -> bool:
    """One dilation pass of :func:`grow_regions` in place, in blocks of rows (each block's 3x3
    minimum is taken over the rows as they were before this pass: the row above comes from a
    saved copy); no canvas-sized temporaries. Whether any pixel changed."""
    h = out.shape[0]
    rows = max(1, blocks.BLOCK // max(1, out.shape[1]))
    changed = False
    above: NDArray[Any] | None = None  # the row above the block, as it was before this pass
    for a in range(0, h, rows):
        b = min(h, a + rows)
        lo = max(0, a - 1)
        win = out[lo : min(h, b + 1)].copy()
        if above is not None:
            win[0] = above
        above = win[b - 1 - lo].copy()
        m = _min3x3(win, cv2)[a - lo : a - lo + (b - a)]
        blk = out[a:b]
        upd = (blk == SENTINEL) & (m != SENTINEL)
        if upd.any():
            np.copyto(blk, m, where=upd)
            changed = True
    return changed


def paint_mask(numbers: NDArray[Any], n: int) -> NDArray[Any]:
    """Region numbers (uint16, 65535 unassigned) -> (H, W, 3) uint8 with exact RP colours."""
    lut = np.zeros((n + 1, 3), dtype=np.uint8)
    lut[:n] = region_palette(n)
    return blocks.take(lut, np.minimum(numbers, n))


def grow_at(
    lut: NDArray[np.uint16], codes: NDArray[Any], ys: NDArray[Any], xs: NDArray[Any]
) -> NDArray[np.uint16]:
    """``grow_regions(lut[codes], 1)[ys][:, xs]`` from the grid pixels (rows ``ys`` x columns
    ``xs``) and the 3x3 neighbourhoods of those still unassigned, never the whole canvas: one
    pass sets an unassigned pixel to the least number among its 8 neighbours (outside the canvas:
    unassigned), which is all it reads."""
    h, w = codes.shape
    out: NDArray[np.uint16] = np.take(lut, codes[ys][:, xs])
    todo = np.flatnonzero(out == SENTINEL)
    if todo.size:
        py, px = np.divmod(todo, xs.size)
        py, px = ys[py], xs[px]
        best = np.full(todo.size, SENTINEL, np.uint16)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                qy, qx = py + dy, px + dx
                ok = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
                vals = np.full(todo.size, SENTINEL, np.uint16)
                vals[ok] = np.take(lut, codes[qy[ok], qx[ok]])
                np.minimum(best, vals, out=best)
        out.reshape(-1)[todo] = best
    return out
