"""Whole-canvas passes in blocks of pixels: the same results as one numpy call over the canvas,
without its canvas-sized temporaries (an 8192² canvas is 67 M pixels: every int64 temporary of
it is 537 MB, which is what kept the plan above 2 GB)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Pixels per block: large enough that numpy's per-call cost vanishes, small enough to stay in cache.
BLOCK = 1 << 20


def bincount(values: NDArray[Any], minlength: int = 0) -> NDArray[np.int64]:
    """``np.bincount(values.ravel(), minlength=minlength)`` for non-negative integers, block by
    block (np.bincount converts its whole input to intp first)."""
    flat = values.reshape(-1)
    counts = np.zeros(minlength, np.int64)
    for a in range(0, flat.size, BLOCK):
        got = np.bincount(flat[a : a + BLOCK], minlength=counts.size)
        if got.size > counts.size:
            counts = np.pad(counts, (0, got.size - counts.size))
        counts += got
    return counts


def take(table: NDArray[Any], index: NDArray[Any]) -> NDArray[Any]:
    """``np.take(table, index, axis=0)``, block by block (np.take converts its whole index array
    to intp first: 8 bytes a pixel for a uint16 or int32 index)."""
    flat = index.reshape(-1)
    out = np.empty((flat.size, *table.shape[1:]), table.dtype)
    for a in range(0, flat.size, BLOCK):
        np.take(table, flat[a : a + BLOCK], axis=0, out=out[a : a + BLOCK])
    return out.reshape(*index.shape, *table.shape[1:])


class TableImage:
    """The image ``table[index]`` (a look-up of per-pixel codes in a small table) that is never
    made whole: :meth:`rows` looks up a range of rows at a time, so a PNG encoder can take it strip
    by strip (an 8192² RGB image is 201 MB of fresh memory, whose page faults cost more per pixel
    than the look-up itself). ``counts``: the pixels of each table row, when known (:meth:`any`).
    """

    def __init__(
        self, table: NDArray[Any], index: NDArray[Any], counts: NDArray[np.int64] | None = None
    ) -> None:
        self.table = table
        self.index = index
        self.counts = counts
        self.shape: tuple[int, ...] = (*index.shape, *table.shape[1:])
        self.dtype = table.dtype
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))

    def rows(self, a: int, b: int) -> NDArray[Any]:
        """Rows a..b of the image."""
        out: NDArray[Any] = np.take(self.table, self.index[a:b], axis=0)
        return out

    def whole(self) -> NDArray[Any]:
        """The image as one array (:func:`take`)."""
        return take(self.table, self.index)

    def any(self) -> bool:
        """Whether any pixel is non-zero."""
        nonzero = self.table.reshape(self.table.shape[0], -1).any(axis=1)
        if self.counts is not None:
            return bool((nonzero[: self.counts.size] & (self.counts[: nonzero.size] > 0)).any())
        return bool(nonzero[self.index].any()) if self.index.size else False
