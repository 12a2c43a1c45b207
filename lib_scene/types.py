"""Array type aliases shared by the core (``numpy.typing``; they hold on numpy 1.26 and 2.x).

Use them in signatures so that ``mypy --strict`` knows the element type of every array::

    from .types import F32, U8, Bool

    def mask_of(depth: F32, near: float) -> Bool: ...
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

F32: TypeAlias = NDArray[np.float32]
"""float32 image or vector (depth, normals, linear colour)."""
F64: TypeAlias = NDArray[np.float64]
"""float64 array (statistics, intermediate sums)."""
U8: TypeAlias = NDArray[np.uint8]
"""8-bit image (maps, masks written as PNG, palettes)."""
U16: TypeAlias = NDArray[np.uint16]
"""16-bit image."""
I32: TypeAlias = NDArray[np.int32]
"""int32 labels or indices."""
I64: TypeAlias = NDArray[np.int64]
"""int64 labels or indices (numpy's default integer on Linux)."""
Bool: TypeAlias = NDArray[np.bool_]
"""boolean mask."""
Float: TypeAlias = NDArray[np.floating[Any]]
"""any floating array (float16, float32 or float64) where the precision is the caller's."""
Int: TypeAlias = NDArray[np.integer[Any]]
"""any integer array (labels of any width)."""

__all__ = ["F32", "F64", "U8", "U16", "I32", "I64", "Bool", "Float", "Int"]
