"""Prompt travel and embedding-noise variations: the pure part (numbers only, no torch).

**Travel.** ``{"keyframes": [{"frame": 0, "base_prompt": "...", "descriptions": {"5": "a steel
chair"}}, {"frame": 24, ...}], "interpolation": "slerp"}``. Each keyframe changes the base prompt,
any region's description (by pass index) or the whole edited ``prompt``; a frame between keyframes
i and j sits at ``t = (frame - f_i) / (f_j - f_i)`` in [0, 1). At t = 0 the frame IS keyframe i (its
plan is a plain generation of keyframe i's prompt, nothing is hooked); between, the host glue
interpolates the TEXT CONDITIONING from keyframe i's towards keyframe j's, chunk by chunk (75-token
chunks, one per BREAK section at least), with the weights here: :func:`linear_weights` or
:func:`slerp_weights` (spherical, from the cosine of the angle between the two chunks). Before the
first keyframe a frame is the first keyframe, after the last the last.

**Variations.** ``{"count": N, "sigma": 0.02}``: N images of one camera, seed fixed, the
conditioning walked ``y[k] = 0.5 y0 + 0.5 (y[k-1] + eps_k)``, ``eps_k ~ N(0, sigma^2)``, ``y[0] = y0``
(variation 0 is the plain image). The offset ``d[k] = y[k] - y0`` obeys ``d[k] = 0.5 d[k-1] + 0.5
eps_k`` whatever y0 is, so :func:`walk_offset` makes it here from the seed alone (numpy), and the glue
adds it to the conditioning. ``"index": k`` asks for variation k only (one task of a scale-out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import PlanError

__all__ = [
    "INTERPOLATIONS",
    "Keyframe",
    "Travel",
    "Variations",
    "check_chunk_counts",
    "check_travel",
    "check_variations",
    "linear_weights",
    "slerp",
    "slerp_weights",
    "walk_offset",
]

INTERPOLATIONS = ("slerp", "linear")
MAX_VARIATIONS = 64
_KEYFRAME_KEYS = ("frame", "base_prompt", "descriptions", "prompt")


@dataclass(frozen=True)
class Keyframe:
    """One keyframe: what it changes over the params (None/empty: nothing)."""

    frame: int
    base_prompt: str | None = None
    descriptions: dict[str, str] = field(default_factory=dict)  # pass index -> description
    prompt: str | None = None  # the whole edited prompt (as PlanParams.prompt)

    def label(self, number: int) -> str:
        return f"keyframe {number} (frame {self.frame})"


@dataclass(frozen=True)
class Travel:
    keyframes: tuple[Keyframe, ...]
    interpolation: str = "slerp"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Travel:
        norm = check_travel(data)
        kfs = tuple(
            Keyframe(
                int(k["frame"]), k.get("base_prompt"), dict(k.get("descriptions") or {}), k.get("prompt")
            )
            for k in norm["keyframes"]
        )
        return cls(kfs, str(norm["interpolation"]))

    @property
    def frames(self) -> list[int]:
        return [k.frame for k in self.keyframes]

    def position(self, frame: int) -> tuple[int, int, float]:
        """(i, j, t): the frame lies at ``t`` in [0, 1) from keyframe i towards keyframe j; t == 0
        exactly at keyframe i (and before the first / after the last keyframe, where i == j)."""
        fs = self.frames
        if frame <= fs[0]:
            return 0, 0, 0.0
        if frame >= fs[-1]:
            return len(fs) - 1, len(fs) - 1, 0.0
        i = max(n for n, f in enumerate(fs) if f <= frame)
        t = (frame - fs[i]) / (fs[i + 1] - fs[i])
        return (i, i, 0.0) if t == 0 else (i, i + 1, t)


@dataclass(frozen=True)
class Variations:
    count: int
    sigma: float = 0.02
    index: int | None = None  # only this variation

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Variations:
        norm = check_variations(data)
        return cls(int(norm["count"]), float(norm["sigma"]), norm.get("index"))

    @property
    def indices(self) -> list[int]:
        return list(range(self.count)) if self.index is None else [self.index]


# --------------------------------------------------------------------------- validation


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    return int(value)


def _keyframe(k: object, n: int) -> dict[str, Any]:
    if not isinstance(k, Mapping):
        raise ValueError(f'travel.keyframes[{n}] must be an object like {{"frame": 0, "base_prompt": "..."}}')
    unknown = sorted(set(k) - set(_KEYFRAME_KEYS))
    if unknown:
        raise ValueError(f"travel.keyframes[{n}] has unknown keys {unknown}; use {', '.join(_KEYFRAME_KEYS)}")
    if "frame" not in k:
        raise ValueError(f"travel.keyframes[{n}] lacks 'frame'")
    frame = _int(k["frame"], f"travel.keyframes[{n}].frame")
    if frame < 0:
        raise ValueError(f"travel.keyframes[{n}].frame must be >= 0, got {frame}")
    out: dict[str, Any] = {"frame": frame}
    for key in ("base_prompt", "prompt"):
        v = k.get(key)
        if v is not None and not isinstance(v, str):
            raise ValueError(f"travel.keyframes[{n}].{key} must be a string")
        if v is not None:
            out[key] = v
    desc = k.get("descriptions") or {}
    if not isinstance(desc, Mapping) or not all(
        isinstance(i, str) and i.strip().isdigit() and isinstance(t, str) for i, t in desc.items()
    ):
        raise ValueError(
            f'travel.keyframes[{n}].descriptions must map pass indices to text, e.g. {{"5": "a chair"}}'
        )
    if desc:
        out["descriptions"] = {str(int(i)): t for i, t in desc.items()}
    return out


def check_travel(value: object) -> dict[str, Any]:
    """The travel object normalised (keyframes by frame); ValueError names the problem."""
    if not isinstance(value, Mapping):
        raise ValueError('travel must be an object like {"keyframes": [...], "interpolation": "slerp"}')
    unknown = sorted(set(value) - {"keyframes", "interpolation"})
    if unknown:
        raise ValueError(f"travel has unknown keys {unknown}; use keyframes, interpolation")
    interp = value.get("interpolation", "slerp")
    if interp not in INTERPOLATIONS:
        raise ValueError(f"travel.interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interp!r}")
    raw = value.get("keyframes")
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) < 2:
        raise ValueError("travel.keyframes must be a list of at least two keyframes")
    kfs = sorted((_keyframe(k, n) for n, k in enumerate(raw)), key=lambda k: int(k["frame"]))
    frames = [k["frame"] for k in kfs]
    dupes = sorted({f for f in frames if frames.count(f) > 1})
    if dupes:
        raise ValueError(f"travel.keyframes: two keyframes at frame {dupes[0]}")
    return {"keyframes": kfs, "interpolation": interp}


def check_variations(value: object) -> dict[str, Any]:
    """The variations object normalised; ValueError names the problem."""
    if not isinstance(value, Mapping):
        raise ValueError('variations must be an object like {"count": 4, "sigma": 0.02}')
    unknown = sorted(set(value) - {"count", "sigma", "index"})
    if unknown:
        raise ValueError(f"variations has unknown keys {unknown}; use count, sigma, index")
    count = _int(value.get("count", 4), "variations.count")
    if not 1 <= count <= MAX_VARIATIONS:
        raise ValueError(f"variations.count must be in [1, {MAX_VARIATIONS}], got {count}")
    sigma = value.get("sigma", 0.02)
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 <= sigma <= 1:
        raise ValueError(f"variations.sigma must be a number in [0, 1], got {sigma!r}")
    out: dict[str, Any] = {"count": count, "sigma": float(sigma)}
    if value.get("index") is not None:
        index = _int(value["index"], "variations.index")
        if not 0 <= index < count:
            raise ValueError(f"variations.index must be in [0, {count - 1}], got {index}")
        out["index"] = index
    return out


def check_chunk_counts(counts: Sequence[int], travel: Travel, what: str = "prompt chunks") -> None:
    """Every keyframe must give as many chunks as the first (Regional Prompter's sections keep their
    token ranges only then); PlanError names the first keyframe that differs."""
    for n, (kf, c) in enumerate(zip(travel.keyframes, counts, strict=True)):
        if c != counts[0]:
            raise PlanError(
                f"prompt travel: {kf.label(n)} gives {c} {what}, {travel.keyframes[0].label(0)} gives "
                f"{counts[0]}; every keyframe must give the same number (same regions/BREAK sections, each "
                "section within 75 tokens) so the conditioning can be interpolated chunk by chunk"
            )


# --------------------------------------------------------------------------- interpolation


def linear_weights(t: float) -> tuple[float, float]:
    """(weight of the start, weight of the end): exactly (1, 0) at t = 0 and (0, 1) at t = 1."""
    return 1.0 - t, t


def slerp_weights(t: float, cos_omega: float) -> tuple[float, float]:
    """Spherical interpolation weights for two vectors whose directions make the angle acos(cos_omega);
    exact at the ends, linear when the vectors are (nearly) parallel."""
    if t == 0:
        return 1.0, 0.0
    if t == 1:
        return 0.0, 1.0
    c = min(1.0, max(-1.0, cos_omega))
    omega = math.acos(c)
    s = math.sin(omega)
    if s < 1e-6:
        return linear_weights(t)
    return math.sin((1.0 - t) * omega) / s, math.sin(t * omega) / s


def slerp(a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]], t: float) -> NDArray[np.float64]:
    """numpy slerp of two vectors (flattened), for tests and reference."""
    fa, fb = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    na, nb = float(np.linalg.norm(fa)), float(np.linalg.norm(fb))
    cos = float(fa @ fb / (na * nb)) if na and nb else 1.0
    wa, wb = slerp_weights(t, cos)
    return (wa * fa + wb * fb).reshape(a.shape)


def chunk_count(tokens: int, chunk: int = 77) -> int:
    """How many 77-token chunks (BOS + 75 + EOS) a conditioning of ``tokens`` tokens holds."""
    if tokens % chunk:
        raise PlanError(f"a conditioning of {tokens} tokens is not a whole number of {chunk}-token chunks")
    return tokens // chunk


# --------------------------------------------------------------------------- variations


def walk_offset(shape: tuple[int, ...], index: int, sigma: float, seed: int) -> NDArray[np.float32]:
    """``d[index]`` of the pulled-back random walk (module doc): 0 for index 0; eps drawn from
    ``numpy.random.default_rng(seed)`` in order, so variation k is the same in any run or task."""
    rng = np.random.default_rng(int(seed) % 2**32)
    d = np.zeros(shape, np.float64)
    for _ in range(index):
        d = 0.5 * d + 0.5 * rng.normal(0.0, sigma, shape)
    return d.astype(np.float32)
