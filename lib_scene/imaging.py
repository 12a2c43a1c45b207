"""Image helpers for plans: resizing to the generation size, beauty tone mapping, PNG base64.

Resizing rules (the host contract: every control image is 8-bit RGB at exactly the generation size):

* **masks** (Regional Prompter colours) use nearest neighbour, computed with numpy index arithmetic,
  so no new colour can ever appear (any filter that blends would invent colours RP cannot match);
* **depth / normal / beauty** use Pillow: ``BOX`` (area average) when both sides shrink, ``BILINEAR``
  otherwise. Area averaging is the right low-pass for shrinking a map; bilinear for enlarging.

Tone map for the img2img init image (``tonemap_srgb``):

* ``"standard"`` (default): clip linear values to [0, 1], then the sRGB transfer function
  (IEC 61966-2-1). This is exactly Blender's "Standard" view transform, so diffuse surfaces look the
  way the artist saw them with that transform; it has no hidden parameters and is deterministic.
  Highlights above 1.0 clip to white, which is harmless at the default 0.52 denoise (SD repaints them).
* ``"reinhard"``: ``x / (1 + x)`` per channel before the transfer function, for renders whose lamps
  blow out large areas; it keeps highlight detail at the cost of darker mid-tones.

Beauty alpha (film transparent) is ignored: Cycles' Combined RGB is premultiplied, so transparent
pixels are already composited over black.
"""

from __future__ import annotations

import base64
import binascii
import io
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from .errors import SceneImportError
from .files import png_bytes

TONEMAPS = ("standard", "reinhard")


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"target size must be positive, got {width}x{height}")


def resize_nearest(arr: NDArray[Any], width: int, height: int) -> NDArray[Any]:
    """Nearest-neighbour resize of an (H, W[, C]) array; sample centres map to source pixel centres."""
    _check_size(width, height)
    h, w = arr.shape[:2]
    if (w, h) == (width, height):
        return np.ascontiguousarray(arr)
    ys = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.int64), h - 1)
    xs = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.int64), w - 1)
    return np.ascontiguousarray(arr[ys[:, None], xs[None, :]])


def resize_smooth(arr: NDArray[Any], width: int, height: int) -> NDArray[Any]:
    """Area (shrinking) or bilinear (otherwise) resize of an 8-bit (H, W) or (H, W, 3) array."""
    _check_size(width, height)
    a = np.ascontiguousarray(arr)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ValueError(f"resize_smooth takes 8-bit L or RGB arrays, got {a.dtype} {a.shape}")
    h, w = a.shape[:2]
    if (w, h) == (width, height):
        return a
    method = Image.Resampling.BOX if (width <= w and height <= h) else Image.Resampling.BILINEAR
    if a.ndim == 3 and h * w > _BIG:
        # channel by channel: Pillow holds RGB as 4 bytes a pixel (a 268 MB copy of an 8192²
        # normal map); its resampling is per channel, so the pixels are the same
        return np.dstack([resize_smooth(np.ascontiguousarray(a[..., c]), width, height) for c in range(3)])
    img = Image.fromarray(a, "L" if a.ndim == 2 else "RGB")
    return np.asarray(img.resize((width, height), method), dtype=np.uint8).copy()


#: Pixels above which an RGB image is resized channel by channel.
_BIG = 1 << 22


def to_rgb8(arr: NDArray[Any]) -> NDArray[Any]:
    """(H, W) or (H, W, 1|3) uint8 -> (H, W, 3) uint8 (grey replicated)."""
    a = np.asarray(arr)
    if a.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit array, got {a.dtype}")
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        raise ValueError(f"expected (H, W), (H, W, 1) or (H, W, 3), got {a.shape}")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return np.ascontiguousarray(a)


def srgb_encode(linear: NDArray[Any]) -> NDArray[Any]:
    """IEC 61966-2-1 transfer function on values already in [0, 1] (float64 result)."""
    x = np.asarray(linear, dtype=np.float64)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0.0031308), 1 / 2.4) - 0.055)


_LUT_SIZE = 65536


@lru_cache(maxsize=1)
def _srgb_lut() -> NDArray[Any]:
    """8-bit sRGB for linear values k / 65535: an index step moves the output by at most 0.05 of a level."""
    lut = np.clip(np.rint(srgb_encode(np.arange(_LUT_SIZE) / (_LUT_SIZE - 1)) * 255.0), 0, 255).astype(
        np.uint8
    )
    lut.flags.writeable = False
    out: NDArray[np.uint8] = lut
    return out


def tonemap_srgb(beauty: NDArray[Any], method: str = "standard") -> NDArray[Any]:
    """Linear scene-referred (H, W, 3|4) float beauty -> (H, W, 3) uint8 sRGB. See the module doc.

    NaN and negative values become 0, +inf white. Vectorised through a 65536-entry lookup table.
    """
    if method not in TONEMAPS:
        raise ValueError(f"unknown tone map {method!r}; use one of {', '.join(TONEMAPS)}")
    b = np.asarray(beauty)
    if b.ndim != 3 or b.shape[2] not in (3, 4):
        raise ValueError(f"beauty must be (H, W, 3|4), got {b.shape}")
    rgb = b[..., :3].astype(np.float32)
    rgb = np.where(rgb > 0, rgb, np.float32(0))  # NaN and negatives -> 0
    if method == "reinhard":
        rgb = np.minimum(rgb, np.float32(1e6))
        rgb = rgb / (np.float32(1) + rgb)
    np.minimum(rgb, np.float32(1), out=rgb)
    idx = np.rint(rgb * np.float32(_LUT_SIZE - 1)).astype(np.uint16)
    out: NDArray[np.uint8] = np.take(_srgb_lut(), idx)
    return out


def png_b64(arr: NDArray[Any]) -> str:
    """8-bit RGB (H, W, 3) or L (H, W) array -> base64 PNG text (no data-URL prefix).

    Encoded by :func:`lib_scene.files.png_bytes` (Sub filter, zlib level 1, strips on threads):
    several times faster than Pillow at level 6 on maps and masks, the same pixels."""
    a = np.ascontiguousarray(arr)
    if a.dtype != np.uint8 or not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"png_b64 takes 8-bit L or RGB arrays, got {a.dtype} {a.shape}")
    return base64.b64encode(png_bytes(a)).decode("ascii")


def decode_png_b64(text: str, what: str = "image") -> NDArray[Any]:
    """base64 PNG (a data-URL prefix is allowed) -> uint8 (H, W, 3) RGB or (H, W) L array."""
    if not isinstance(text, str):
        raise SceneImportError(f"{what} must be a base64 PNG string, got {type(text).__name__}")
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SceneImportError(f"{what} is not valid base64 ({exc})") from exc
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            if img.mode not in ("L", "RGB"):
                img = img.convert("RGB")
            return np.asarray(img, dtype=np.uint8).copy()
    except (OSError, SyntaxError) as exc:
        raise SceneImportError(f"{what} is not a readable PNG ({exc})") from exc
