"""Split plans: how the 256 grey levels of a depth map are shared out over depth ranges.

A plan is immutable; every operation returns a new, validated plan. Depths are absolute scene
units (centimetres for Daz canvases), so one preset serves every camera of a scene.

Semantics (exact):

* splits are ordered and contiguous; split i covers [start, end), the last one includes its end;
* each split has ``levels`` >= 0; all levels together are at most 256;
* ``cutoff`` (optional): depth at or past it is black;
* ``curve``: "linear" in depth, or "inverse" (levels evenly spaced in disparity 1/d).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import SupportsFloat, SupportsIndex, SupportsInt

import numpy as np
import numpy.typing as npt

from .errors import PresetError, SplitError
from .files import atomic_write_text
from .jsonio import load_json_file
from .types import I64

TOTAL_LEVELS = 256
PRESET_VERSION = 1
CURVES = ("linear", "inverse")
FLAGS = ("label", "test", "region")


def parse_colour(value: str) -> tuple[int, int, int]:
    """A CSS colour name or #hex as RGB; raises ValueError."""
    from PIL import ImageColor

    rgb = ImageColor.getrgb(str(value).strip())
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


@dataclass(frozen=True)
class Split:
    start: float
    end: float
    levels: int = 0
    label: str | None = None
    test: str | None = None  # CSS colour name or #hex for the test image
    region: int | None = None  # Regional Prompter region number

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None or k in ("start", "end", "levels")}


def _finite(x: object, what: str) -> float:
    try:
        if not isinstance(x, (str, bytes, SupportsFloat, SupportsIndex)):
            raise TypeError(type(x).__name__)
        v = float(x)
    except (TypeError, ValueError) as exc:
        raise SplitError(f"{what} must be a number, got {x!r}") from exc
    if not math.isfinite(v):
        raise SplitError(f"{what} must be finite, got {x!r}")
    return v


def _whole(x: object, what: str) -> int:
    """``int(x)`` for a number or numeric text; SplitError otherwise."""
    try:
        if not isinstance(x, (str, bytes, SupportsInt, SupportsIndex)):
            raise TypeError(type(x).__name__)
        return int(x)
    except (TypeError, ValueError) as exc:
        raise SplitError(f"{what} must be a whole number, got {x!r}") from exc


@dataclass(frozen=True)
class SplitPlan:
    splits: tuple[Split, ...]
    cutoff: float | None = None
    curve: str = "linear"
    name: str | None = field(default=None, compare=False)

    # ----------------------------------------------------------------- construction / validation
    def __post_init__(self) -> None:
        object.__setattr__(self, "splits", tuple(self.splits))
        self.validate()

    def validate(self) -> None:
        if not self.splits:
            raise SplitError("a split plan needs at least one split")
        if self.curve not in CURVES:
            raise SplitError(f"curve must be one of {', '.join(CURVES)}, got {self.curve!r}")
        total = 0
        for i, s in enumerate(self.splits):
            _finite(s.start, f"split {i} start")
            _finite(s.end, f"split {i} end")
            if not s.end > s.start:
                raise SplitError(f"split {i} is empty or reversed: [{s.start:g}, {s.end:g})")
            if i and s.start != self.splits[i - 1].end:
                raise SplitError(
                    f"splits must be contiguous: split {i - 1} ends at {self.splits[i - 1].end:g} "
                    f"but split {i} starts at {s.start:g}"
                )
            if not isinstance(s.levels, (int, np.integer)) or isinstance(s.levels, bool) or s.levels < 0:
                raise SplitError(f"split {i} levels must be a whole number >= 0, got {s.levels!r}")
            total += int(s.levels)
            if s.test is not None:
                try:
                    parse_colour(s.test)
                except ValueError as exc:
                    raise SplitError(
                        f"split {i} test colour {s.test!r} is not a CSS colour name or #hex"
                    ) from exc
            if s.region is not None and (
                not isinstance(s.region, (int, np.integer)) or isinstance(s.region, bool) or s.region < 0
            ):
                raise SplitError(f"split {i} region must be a whole number >= 0, got {s.region!r}")
        if total > TOTAL_LEVELS:
            raise SplitError(f"splits use {total} levels; at most {TOTAL_LEVELS} are available")
        if self.curve == "inverse" and self.splits[0].start <= 0:
            raise SplitError("the inverse curve needs depths > 0 (the first split starts at or below 0)")
        if self.cutoff is not None:
            _finite(self.cutoff, "cutoff")

    @classmethod
    def single(
        cls,
        start: float,
        end: float,
        levels: int = TOTAL_LEVELS,
        *,
        cutoff: float | None = None,
        curve: str = "linear",
        name: str | None = None,
    ) -> SplitPlan:
        """One split over [start, end] with all levels."""
        if not end > start:
            end = start + max(abs(start) * 1e-6, 1e-6)
        return cls((Split(float(start), float(end), levels),), cutoff=cutoff, curve=curve, name=name)

    # ----------------------------------------------------------------- read-outs
    @property
    def start(self) -> float:
        return self.splits[0].start

    @property
    def end(self) -> float:
        return self.splits[-1].end

    @property
    def total_levels(self) -> int:
        return sum(s.levels for s in self.splits)

    @property
    def remaining_levels(self) -> int:
        return TOTAL_LEVELS - self.total_levels

    def boundaries(self) -> list[float]:
        return [self.splits[0].start, *(s.end for s in self.splits)]

    def find(self, depth: float) -> int:
        """Index of the split holding ``depth`` ([start, end), the last one closed)."""
        d = _finite(depth, "depth")
        if d < self.start or d > self.end:
            raise SplitError(f"depth {d:g} is outside the splits [{self.start:g}, {self.end:g}]")
        for i, s in enumerate(self.splits):
            if d < s.end:
                return i
        return len(self.splits) - 1

    def _index(self, i: int) -> int:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise SplitError(f"split number must be a whole number, got {i!r}")
        if not -len(self.splits) <= i < len(self.splits):
            raise SplitError(f"there is no split {i}; splits are numbered 0..{len(self.splits) - 1}")
        return int(i) % len(self.splits)

    def _with(self, splits: Iterable[Split]) -> SplitPlan:
        return replace(self, splits=tuple(splits))

    # ----------------------------------------------------------------- operations
    def add_cut(self, depth: float) -> SplitPlan:
        """Cut the split holding ``depth`` in two at ``depth``. Its levels are shared by depth share
        (the far part gets the rounding remainder); flags stay with the near part, except
        ``region``/``label``/``test`` which stay on the near part only."""
        d = _finite(depth, "cut depth")
        if d <= self.start or d >= self.end:
            raise SplitError(f"cut at {d:g} must lie strictly inside [{self.start:g}, {self.end:g}]")
        i = self.find(d)
        s = self.splits[i]
        if d == s.start:
            raise SplitError(f"there is already a boundary at {d:g}")
        near_levels = int(round(s.levels * (d - s.start) / (s.end - s.start)))
        near = replace(s, end=d, levels=near_levels)
        far = Split(d, s.end, s.levels - near_levels)
        return self._with([*self.splits[:i], near, far, *self.splits[i + 1 :]])

    def move_boundary(self, b: int, depth: float) -> SplitPlan:
        """Move boundary ``b`` (0 = the first split's start, len = the last split's end).

        An inner boundary may not reach or pass its neighbours."""
        n = len(self.splits)
        if not isinstance(b, (int, np.integer)) or not 0 <= b <= n:
            raise SplitError(f"there is no boundary {b!r}; boundaries are numbered 0..{n}")
        d = _finite(depth, "boundary depth")
        bounds = self.boundaries()
        lo = bounds[b - 1] if b > 0 else -math.inf
        hi = bounds[b + 1] if b < n else math.inf
        if not lo < d < hi:
            raise SplitError(
                f"boundary {b} can move only between its neighbours ({lo:g}, {hi:g}); {d:g} is outside"
            )
        splits = list(self.splits)
        if b > 0:
            splits[b - 1] = replace(splits[b - 1], end=d)
        if b < n:
            splits[b] = replace(splits[b], start=d)
        return self._with(splits)

    def remove(self, i: int) -> SplitPlan:
        """Remove split ``i`` by merging it into its nearer neighbour (the previous one, or the next
        for split 0). Levels add up; the survivor keeps its own flags."""
        i = self._index(i)
        if len(self.splits) == 1:
            raise SplitError("cannot remove the only split")
        j = i - 1 if i > 0 else 1
        return self.merge(min(i, j), max(i, j), keep=j)

    def merge(self, i: int, j: int, keep: int | None = None) -> SplitPlan:
        """Merge the adjacent splits ``i`` and ``j`` into one; levels add up. Flags come from
        ``keep`` (default: ``i``)."""
        i, j = self._index(i), self._index(j)
        i, j = min(i, j), max(i, j)
        if j != i + 1:
            raise SplitError(f"splits {i} and {j} are not neighbours")
        keep = i if keep is None else self._index(keep)
        a, b = self.splits[i], self.splits[j]
        merged = replace(self.splits[keep], start=a.start, end=b.end, levels=a.levels + b.levels)
        return self._with([*self.splits[:i], merged, *self.splits[j + 1 :]])

    def allocate(self, i: int, levels: int) -> SplitPlan:
        """Give split ``i`` exactly ``levels`` levels."""
        i = self._index(i)
        if not isinstance(levels, (int, np.integer)) or isinstance(levels, bool) or levels < 0:
            raise SplitError(f"levels must be a whole number >= 0, got {levels!r}")
        others = self.total_levels - self.splits[i].levels
        if others + levels > TOTAL_LEVELS:
            raise SplitError(
                f"split {i} can have at most {TOTAL_LEVELS - others} levels "
                f"(the other splits use {others} of {TOTAL_LEVELS})"
            )
        return self._with(
            [*self.splits[:i], replace(self.splits[i], levels=int(levels)), *self.splits[i + 1 :]]
        )

    def set_flag(self, i: int, flag: str, value: object) -> SplitPlan:
        """Set (or clear, with None / "") split ``i``'s ``label``, ``test`` colour or ``region``."""
        i = self._index(i)
        if flag not in FLAGS:
            raise SplitError(f"unknown flag {flag!r}; flags are {', '.join(FLAGS)}")
        s = self.splits[i]
        clear = value == "" or value is None
        if flag == "region":
            s = replace(s, region=None if clear else _whole(value, "region"))
        elif flag == "label":
            s = replace(s, label=None if clear else str(value))
        else:
            s = replace(s, test=None if clear else str(value))
        return self._with([*self.splits[:i], s, *self.splits[i + 1 :]])

    def set_cutoff(self, cutoff: float | None) -> SplitPlan:
        return replace(self, cutoff=None if cutoff is None else _finite(cutoff, "cutoff"))

    def set_curve(self, curve: str) -> SplitPlan:
        return replace(self, curve=curve)

    def auto_allocate(
        self, method: str = "proportional", counts: npt.ArrayLike | None = None, only: list[int] | None = None
    ) -> SplitPlan:
        """Share the remaining levels among splits.

        ``method="even"``: equally (remainder to the nearest splits). ``"proportional"``: by pixel
        share; ``counts[i]`` is the number of pixels in split i (see :func:`lib_scene.depth.split_counts`).
        ``only`` limits the recipients (default: every split; splits with no pixels get none
        when proportional).
        """
        left = self.remaining_levels
        if left <= 0:
            return self
        idx = list(range(len(self.splits))) if only is None else [self._index(i) for i in only]
        if not idx:
            raise SplitError("no splits to allocate to")
        if method == "even":
            weights = np.ones(len(idx))
        elif method == "proportional":
            if counts is None:
                raise SplitError("proportional allocation needs the depth canvas (pixel counts per split)")
            per_split = np.asarray(counts, dtype=np.float64)
            if per_split.shape != (len(self.splits),):
                raise SplitError(f"need {len(self.splits)} pixel counts, got {per_split.shape}")
            weights = per_split[idx]
            if weights.sum() <= 0:
                raise SplitError("the chosen splits hold no pixels; use even allocation")
        else:
            raise SplitError(f"unknown allocation method {method!r}; use 'proportional' or 'even'")
        shares = largest_remainder(weights, left)
        splits = list(self.splits)
        for k, add in zip(idx, shares, strict=True):
            splits[k] = replace(splits[k], levels=splits[k].levels + int(add))
        return self._with(splits)

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, object]:
        return {
            "version": PRESET_VERSION,
            "cutoff": self.cutoff,
            "curve": self.curve,
            "splits": [s.to_dict() for s in self.splits],
        }

    @classmethod
    def from_dict(cls, data: object, source: str | None = None) -> SplitPlan:
        if not isinstance(data, dict):
            raise PresetError("a split preset must be a JSON object", source)
        unknown_top = sorted(k for k in data if not _known_top_key(k))
        if unknown_top:
            raise PresetError(_unknown_keys(unknown_top), source)
        version = data.get("version", PRESET_VERSION)
        if version != PRESET_VERSION:
            raise PresetError(f"unsupported preset version {version!r} (this build reads version 1)", source)
        raw = data.get("splits")
        if not isinstance(raw, list) or not raw:
            raise PresetError("'splits' must be a non-empty list", source)
        splits = []
        for i, s in enumerate(raw):
            if not isinstance(s, dict):
                raise PresetError(f"split {i} must be an object", source)
            unknown = set(s) - {"start", "end", "levels", *FLAGS}
            if unknown:
                raise PresetError(f"split {i} has unknown keys {sorted(unknown)}", source)
            try:
                levels = s.get("levels", 0)
                if isinstance(levels, float) and levels.is_integer():
                    levels = int(levels)
                splits.append(
                    Split(
                        start=_finite(s["start"], f"split {i} start"),
                        end=_finite(s["end"], f"split {i} end"),
                        levels=levels,
                        label=None if s.get("label") is None else str(s["label"]),
                        test=None if s.get("test") is None else str(s["test"]),
                        region=s.get("region"),
                    )
                )
            except KeyError as exc:
                raise PresetError(f"split {i} lacks {exc.args[0]!r}", source) from exc
            except SplitError as exc:
                raise PresetError(exc.problem, source) from exc
        try:
            return cls(
                tuple(splits),
                cutoff=None if data.get("cutoff") is None else _finite(data["cutoff"], "cutoff"),
                curve=data.get("curve", "linear"),
                name=data.get("name"),
            )
        except SplitError as exc:
            raise PresetError(exc.problem, source) from exc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def describe(self, counts: npt.ArrayLike | None = None, total: int | None = None) -> str:
        """A DDP-style table of the splits."""
        per_split = None if counts is None else np.asarray(counts)
        lines = [f"{'#':>3}  {'start':>10}  {'end':>10}  {'levels':>6}  {'pixels':>7}  flags"]
        for i, s in enumerate(self.splits):
            share = ""
            if per_split is not None and total:
                share = f"{100.0 * float(per_split[i]) / total:6.2f}%"
            flags = " ".join(
                f"{k}={v}"
                for k, v in (("label", s.label), ("test", s.test), ("region", s.region))
                if v is not None
            )
            lines.append(f"{i:>3}  {s.start:>10.4g}  {s.end:>10.4g}  {s.levels:>6}  {share:>7}  {flags}")
        cut = "none" if self.cutoff is None else f"{self.cutoff:g}"
        lines.append(
            f"levels: {self.total_levels}/{TOTAL_LEVELS} allocated, cutoff {cut}, curve {self.curve}"
        )
        return "\n".join(lines)


#: Top-level keys of a preset; "description", "comment" and "_..." keys are free notes for people.
PRESET_KEYS = ("version", "name", "cutoff", "curve", "splits")


def _known_top_key(key: object) -> bool:
    return isinstance(key, str) and (
        key in PRESET_KEYS or key in ("description", "comment") or key.startswith("_")
    )


def _unknown_keys(keys: list[str]) -> str:
    import difflib

    parts = []
    for k in keys:
        close = difflib.get_close_matches(str(k), PRESET_KEYS, n=1, cutoff=0.6)
        parts.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"unknown preset key{'s' if len(parts) > 1 else ''} {', '.join(parts)}; a preset has "
        f"{', '.join(PRESET_KEYS)} (and free 'description'/'comment' notes)"
    )


def largest_remainder(weights: npt.ArrayLike, total: int) -> I64:
    """Integers proportional to ``weights`` summing to ``total`` (ties go to the earlier index)."""
    w: npt.NDArray[np.float64] = np.asarray(weights, dtype=np.float64)
    if total <= 0 or w.size == 0:
        return np.zeros(w.size, dtype=np.int64)
    exact = w / w.sum() * total
    base: I64 = np.floor(exact).astype(np.int64)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(w.size), -(exact - base)))
    base[order[:rest]] += 1
    return base


def load_preset(path: str | os.PathLike[str]) -> SplitPlan:
    path = os.fspath(path)
    data = load_json_file(path, "preset file", error=PresetError)
    plan = SplitPlan.from_dict(data, source=path)
    return replace(plan, name=os.path.splitext(os.path.basename(path))[0])


def save_preset(plan: SplitPlan, path: str | os.PathLike[str], overwrite: bool = False) -> str:
    """Write a preset atomically. Refuses to replace an existing file unless ``overwrite``."""
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise PresetError("preset already exists; choose another name or allow overwriting", path)
    atomic_write_text(path, plan.to_json() + "\n")
    return path
