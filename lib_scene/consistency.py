"""How well images of several cameras agree where the cameras see the same surfaces.

For a pair of cameras (A, B) the image of A is warped into B (and B's into A) with
:func:`lib_scene.reproject.warp`; the pixels that were carried are the co-visible ones. Over those
pixels of both directions together, the pair's mean squared error gives its PSNR (8-bit levels,
capped at :data:`PSNR_CAP` for identical images) and its mean absolute error (levels, 0..255,
averaged over channels). The scene score is the mean over pairs that have co-visible pixels.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError  # type: ignore[import-untyped,unused-ignore]

from .reproject import DEFAULT_TOL, View, WarpError, warp

U8 = npt.NDArray[np.uint8]

#: PSNR reported for two images that agree exactly on every co-visible pixel.
PSNR_CAP = 100.0


@dataclass(frozen=True)
class PairScore:
    a: str
    b: str
    pixels: int  # co-visible pixels, both directions together
    covisible: float  # their share of the two images' pixels
    psnr: float | None  # None without co-visible pixels
    mae: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "pixels": self.pixels,
            "covisible": round(self.covisible, 6),
            "psnr": None if self.psnr is None else round(self.psnr, 4),
            "mae": None if self.mae is None else round(self.mae, 4),
        }


@dataclass(frozen=True)
class SceneScore:
    pairs: list[PairScore]

    @property
    def psnr(self) -> float | None:
        vals = [p.psnr for p in self.pairs if p.psnr is not None]
        return float(np.mean(vals)) if vals else None

    @property
    def mae(self) -> float | None:
        vals = [p.mae for p in self.pairs if p.mae is not None]
        return float(np.mean(vals)) if vals else None

    def as_dict(self) -> dict[str, Any]:
        psnr, mae = self.psnr, self.mae
        return {
            "pairs": [p.as_dict() for p in self.pairs],
            "mean": {
                "psnr": None if psnr is None else round(psnr, 4),
                "mae": None if mae is None else round(mae, 4),
            },
            "psnr_cap": PSNR_CAP,
        }

    def table(self) -> str:
        def num(x: float | None) -> str:
            return "-" if x is None else f"{x:.2f}"

        width = max([len(f"{p.a} - {p.b}") for p in self.pairs] + [10])
        lines = [f"{'pair':<{width}}  covisible  PSNR dB     MAE"]
        for p in self.pairs:
            lines.append(
                f"{p.a + ' - ' + p.b:<{width}}  {100 * p.covisible:8.1f}%  {num(p.psnr):>7}  {num(p.mae):>6}"
            )
        lines.append(f"{'scene mean':<{width}}  {'':9}  {num(self.psnr):>7}  {num(self.mae):>6}")
        return "\n".join(lines)


def read_rgb(path: str | os.PathLike[str]) -> U8:
    """An image file as 8-bit RGB (H, W, 3); a :class:`WarpError` naming the file otherwise."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise WarpError(f"cannot read the image ({exc.strerror or exc})", path) from exc
    return read_rgb_bytes(raw, path)


def read_rgb_bytes(raw: bytes, where: str | None = None) -> U8:
    """Encoded image bytes as 8-bit RGB (H, W, 3); a :class:`WarpError` naming ``where`` otherwise."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except OSError as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise WarpError("not an image Pillow can read", where) from exc
        raise WarpError(f"cannot read the image ({exc.strerror or exc})", where) from exc


def _errors(view_a: View, img_a: U8, view_b: View, img_b: U8, tol: float) -> tuple[int, float, float]:
    """(co-visible pixels, summed squared error, summed absolute error) of A warped into B."""
    res = warp([(view_a, img_a)], view_b, (img_b.shape[1], img_b.shape[0]), tol=tol)
    sel = res.carried
    diff = res.image[sel].astype(np.float64) - img_b[sel].astype(np.float64)
    n = int(np.count_nonzero(sel))
    return n, float(np.sum(diff * diff)) / img_b.shape[2], float(np.sum(np.abs(diff))) / img_b.shape[2]


def pair_score(a: str, b: str, views: Mapping[str, View], images: Mapping[str, U8], tol: float) -> PairScore:
    n1, sq1, ab1 = _errors(views[a], images[a], views[b], images[b], tol)
    n2, sq2, ab2 = _errors(views[b], images[b], views[a], images[a], tol)
    n = n1 + n2
    total = images[a].shape[0] * images[a].shape[1] + images[b].shape[0] * images[b].shape[1]
    if n == 0:
        return PairScore(a, b, 0, 0.0, None, None)
    mse = (sq1 + sq2) / n
    psnr = PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * math.log10(255.0**2 / mse))
    return PairScore(a, b, n, n / total, psnr, (ab1 + ab2) / n)


def scene_consistency(
    views: Mapping[str, View],
    images: Mapping[str, U8],
    order: Sequence[str] | None = None,
    tol: float = DEFAULT_TOL,
) -> SceneScore:
    """Scores of every pair of cameras that have both a view and an image."""
    names = [n for n in (order or sorted(images)) if n in views and n in images]
    if len(names) < 2:
        raise WarpError(f"consistency needs images of at least two posed cameras, got {len(names)}")
    return SceneScore([pair_score(a, b, views, images, tol) for a, b in combinations(names, 2)])
