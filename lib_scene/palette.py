"""Regional Prompter's mask palette, exact.

Regional Prompter (hako-mikan/sd-webui-regional-prompter) matches mask pixels by exact colour:
region 0 has hue 0; for region i >= 1 with c = ceil(log2(i + 1)), cycle c's hues are the odd
multiples of 1/2**c in increasing order (1/2; 1/4, 3/4; 1/8, 3/8, ...). Each channel is
truncate(256 * HSV->RGB(hue, 0.5, 0.5)). All hues are dyadic, so the float arithmetic is exact.
"""

from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np

from .types import I64, U8

#: Regions with distinct mask colours: region 256 truncates to region 0's colour (hue 511/512 ~ 0), so
#: more than 256 regions cannot be told apart by Regional Prompter (found by a property test).
MAX_REGIONS = 256


def region_hue(i: int) -> float:
    """Hue in [0, 1) of region ``i`` (0-based)."""
    if i < 0:
        raise ValueError(f"region number must be >= 0, got {i}")
    if i == 0:
        return 0.0
    c = (i).bit_length()  # == ceil(log2(i + 1)) for i >= 1
    k = i - (1 << (c - 1))  # position inside cycle c
    return (2 * k + 1) / (1 << c)


def region_color(i: int) -> tuple[int, int, int]:
    """The exact RGB colour Regional Prompter expects for region ``i``."""
    r, g, b = colorsys.hsv_to_rgb(region_hue(i), 0.5, 0.5)
    return int(256 * r), int(256 * g), int(256 * b)


def default_test_colour(k: int) -> tuple[int, int, int]:
    """The default test colour of split ``k`` (0-based): bright, saturated, distinct for every k < 1024
    (hues in Regional Prompter's dyadic order, at saturation 1 and value 1 so they never match a
    mask colour nor a grey)."""
    r, g, b = colorsys.hsv_to_rgb(region_hue(k), 1.0, 1.0)
    return round(255 * r), round(255 * g), round(255 * b)


@lru_cache(maxsize=16)
def _palette(n: int) -> U8:
    table = np.array([region_color(i) for i in range(n)], dtype=np.uint8).reshape(n, 3)
    table.flags.writeable = False
    return table


def region_palette(n: int) -> U8:
    """``(n, 3)`` uint8 array of the first ``n`` region colours (read-only)."""
    if not 0 <= n <= MAX_REGIONS:
        raise ValueError(f"region count must be in [0, {MAX_REGIONS}], got {n}")
    return _palette(n)


def color_to_region(rgb: U8, n: int = 256) -> I64:
    """Map an ``(H, W, 3)`` uint8 image to region numbers; -1 where the colour is not in the palette."""
    pal = region_palette(n).astype(np.int64)
    key = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
    px = rgb.astype(np.int64)
    pk = (px[..., 0] << 16) | (px[..., 1] << 8) | px[..., 2]
    order = np.argsort(key)
    sk = key[order]
    pos = np.clip(np.searchsorted(sk, pk), 0, len(sk) - 1) if len(sk) else np.zeros_like(pk)
    found = (sk[pos] == pk) if len(sk) else np.zeros(pk.shape, bool)
    return np.where(found, order[pos] if len(sk) else -1, -1)
