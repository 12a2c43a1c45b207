"""The scene's depth as the conditioning of an SD 2 depth model ("depth2img"), instead of MiDaS.

A1111 (``StableDiffusionProcessing.depth2img_image_conditioning``) runs MiDaS DPT-hybrid on the
init image, resizes its output (inverse depth: near is large) bicubically to the latent size
(H/8, W/8) and normalises it with one min/max over the batch to exactly [-1, 1], near = +1. The
model is conditioned on that (B, 1, H/8, W/8) tensor.

:func:`depth_conditioning` makes the same tensor from our quantised depth map (ControlNet's
convention: near = white, far and no-hit = black), as float32 numpy; the host glue wraps it in a
tensor. Pure numpy + Pillow: no torch here.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from .errors import PlanError

__all__ = ["LATENT_FACTOR", "conditioning_digest", "depth_conditioning", "latent_size"]

#: A1111's ``opt_f``: the latent is 1/8 of the image on each side.
LATENT_FACTOR = 8


def latent_size(width: int, height: int) -> tuple[int, int]:
    """(latent width, latent height) of a generation size."""
    return max(1, width // LATENT_FACTOR), max(1, height // LATENT_FACTOR)


def depth_conditioning(
    depth_map: NDArray[Any], latent_w: int, latent_h: int, batch: int = 1
) -> tuple[NDArray[np.float32], str | None]:
    """(batch, 1, latent_h, latent_w) float32 in [-1, 1], near = +1, from an 8-bit depth map
    ((H, W) or (H, W, 3) grey, near = white), resized in float (each latent cell the mean of the
    pixels it covers when shrinking, bicubic when enlarging) and normalised by its min/max as A1111
    normalises MiDaS. A flat map (A1111 would divide by zero and get NaN)
    gives zeros and a warning."""
    a = np.asarray(depth_map)
    if a.ndim == 3:
        a = a[..., 0]
    if a.ndim != 2 or a.dtype != np.uint8:
        raise PlanError(f"depth2img needs an 8-bit grey depth map, got {a.dtype} {a.shape}")
    if latent_w < 1 or latent_h < 1 or batch < 1:
        raise PlanError(f"depth2img conditioning size {batch}x{latent_w}x{latent_h} is empty")
    img = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32), "F")
    if img.size != (latent_w, latent_h):
        shrink = latent_w <= img.size[0] and latent_h <= img.size[1]
        img = img.resize((latent_w, latent_h), Image.Resampling.BOX if shrink else Image.Resampling.BICUBIC)
    small = np.asarray(img, dtype=np.float32)
    lo, hi = float(small.min()), float(small.max())
    warning = None
    if hi > lo:
        cond = (2.0 * (small - lo) / (hi - lo) - 1.0).astype(np.float32)
    else:
        cond = np.zeros_like(small)
        warning = "the depth map is flat; the depth model gets a flat (zero) conditioning"
    out = np.ascontiguousarray(np.broadcast_to(cond, (batch, 1, latent_h, latent_w)), dtype=np.float32)
    return out, warning


def conditioning_digest(cond: NDArray[Any], decimals: int = 4) -> str:
    """A short hash of a conditioning array's values rounded to ``decimals`` (for logs and tests:
    the same map gives the same digest whatever the dtype or device it went through)."""
    a = np.round(np.asarray(cond, dtype=np.float64), decimals) + 0.0  # -0.0 -> 0.0
    h = hashlib.sha256(str(a.shape).encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]
