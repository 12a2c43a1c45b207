"""Frame sequences: Blender's numbered outputs as one camera with frames, and ``--frames`` ranges.

Blender writes an animation as one file per frame, the frame number zero-padded to the width of the
output path's ``#`` run (default ``####``): ``Cam0_0001.exr``, ``Cam0.0001.exr``, ``Cam00001.exr``.
Discovery groups such files into one camera per (folder, stem, separator, width):

* ``<stem>_<digits>.exr`` and ``<stem>.<digits>.exr`` with at least :data:`MIN_DIGITS` digits form a
  sequence when **two or more** files share the stem (a lone ``Cam0_0001.exr`` stays a still camera
  named ``Cam0_0001``, as before);
* a path with a ``#`` run (``renders/Cam0_####.exr``, quote it in the shell) is a pattern: every file
  matching it is a frame, even one alone; ``#`` count = digit count (Blender pads to at least it).

Each frame's sidecar is the frame file's own (``Cam0_0001.json``; the exporter writes one per frame
for an animated camera), else the camera's (``Cam0.json``) for a still camera.

``parse_frames("A-B")`` reads a ``--frames`` range; :func:`select_frames` applies it.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import CanvasError, ParamsError

__all__ = [
    "MIN_DIGITS",
    "FrameRange",
    "Sequence_",
    "expand_pattern",
    "frame_sidecar",
    "group_sequences",
    "parse_frames",
    "select_frames",
]

#: Fewest digits read as a frame number without a ``#`` pattern (Blender's default is 4).
MIN_DIGITS = 3
_NUMBERED = re.compile(r"^(?P<stem>.+?)(?P<sep>[_.])(?P<num>\d+)\.exr$", re.IGNORECASE)
_HASHES = re.compile(r"#+")


@dataclass(frozen=True)
class Sequence_:
    """One camera's frames: ``frames`` maps frame number -> EXR path, ascending."""

    camera: str
    frames: tuple[tuple[int, str], ...]

    @property
    def numbers(self) -> list[int]:
        return [n for n, _ in self.frames]

    def path(self, frame: int) -> str:
        for n, p in self.frames:
            if n == frame:
                return p
        raise CanvasError(
            f"camera {self.camera!r} has no frame {frame} (frames {describe(self.numbers)})",
            self.frames[0][1] if self.frames else None,
        )


def describe(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    out: list[str] = []
    nums = sorted(numbers)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)


def group_sequences(files: Iterable[str]) -> tuple[list[Sequence_], list[str]]:
    """(the numbered sequences among ``files``, the files left over). See the module doc."""
    groups: dict[tuple[str, str, str, int], list[tuple[int, str]]] = {}
    rest: list[str] = []
    for f in files:
        m = _NUMBERED.match(os.path.basename(f))
        if m is None or len(m.group("num")) < MIN_DIGITS:
            rest.append(f)
            continue
        key = (os.path.dirname(f), m.group("stem"), m.group("sep"), len(m.group("num")))
        groups.setdefault(key, []).append((int(m.group("num")), f))
    seqs: list[Sequence_] = []
    for (_, stem, _, _), members in groups.items():
        if len(members) < 2:
            rest.extend(f for _, f in members)
            continue
        seqs.append(Sequence_(stem, tuple(sorted(members))))
    return seqs, sorted(rest)


def expand_pattern(pattern: str) -> Sequence_:
    """A ``#`` pattern (``Cam0_####.exr``) -> its sequence; no match is a CanvasError."""
    base = os.path.basename(pattern)
    runs = list(_HASHES.finditer(base))
    if len(runs) != 1:
        raise CanvasError("a frame pattern needs exactly one run of '#' in the file name", pattern)
    run = runs[0]
    width = run.end() - run.start()
    rx = re.compile(
        "^" + re.escape(base[: run.start()]) + rf"(\d{{{width},}})" + re.escape(base[run.end() :]) + "$"
    )
    folder = os.path.dirname(pattern) or "."
    glob_base = base[: run.start()] + "*" + base[run.end() :]
    frames: list[tuple[int, str]] = []
    for f in sorted(glob.glob(os.path.join(glob.escape(folder), glob.escape(glob_base).replace("[*]", "*")))):
        m = rx.match(os.path.basename(f))
        if m:
            frames.append((int(m.group(1)), f if os.path.dirname(pattern) else os.path.basename(f)))
    if not frames:
        raise CanvasError("no files match the frame pattern", pattern)
    stem = base[: run.start()].rstrip("_.-") or os.path.splitext(base[run.end() :])[0] or "frames"
    return Sequence_(stem, tuple(sorted(frames)))


def is_pattern(path: str) -> bool:
    return "#" in os.path.basename(path)


def frame_sidecar(frame_path: str, camera: str) -> str | None:
    """The frame's own sidecar (``Cam0_0001.json``), else the camera's (``Cam0.json``), else None."""
    folder = os.path.dirname(frame_path)
    own = os.path.splitext(frame_path)[0] + ".json"
    if os.path.isfile(own):
        return own
    cam = os.path.join(folder, camera + ".json")
    return cam if os.path.isfile(cam) else None


@dataclass(frozen=True)
class FrameRange:
    """An inclusive range of frame numbers; ``None`` ends are open ("all")."""

    first: int | None = None
    last: int | None = None

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int):
            return False
        return (self.first is None or n >= self.first) and (self.last is None or n <= self.last)

    def __str__(self) -> str:
        if self.first is None and self.last is None:
            return "all"
        a = "" if self.first is None else str(self.first)
        b = "" if self.last is None else str(self.last)
        return a if self.first == self.last else f"{a}-{b}"


_RANGE = re.compile(r"^\s*(?P<a>\d+)?\s*(?P<dash>-)?\s*(?P<b>\d+)?\s*$")


def parse_frames(text: str | int | None) -> FrameRange:
    """``"A-B"``, ``"A-"``, ``"-B"``, ``"A"``, ``"all"``/None -> FrameRange; bad text: ParamsError."""
    if text is None:
        return FrameRange()
    if isinstance(text, bool) or not isinstance(text, (int, str)):
        raise ParamsError([f"frames must be 'A-B', 'A' or 'all', got {text!r}"])
    if isinstance(text, int):
        return FrameRange(text, text)
    if text.strip().lower() in ("", "all"):
        return FrameRange()
    m = _RANGE.match(text)
    if m is None or (m.group("a") is None and m.group("b") is None):
        raise ParamsError([f"frames must be 'A-B', 'A', 'A-', '-B' or 'all', got {text!r}"])
    a = int(m.group("a")) if m.group("a") is not None else None
    b = int(m.group("b")) if m.group("b") is not None else None
    if m.group("dash") is None:
        b = a
    if a is not None and b is not None and b < a:
        raise ParamsError([f"frames {text!r}: the last frame is before the first"])
    return FrameRange(a, b)


def select_frames(available: Sequence[int], wanted: FrameRange, camera: str = "") -> list[int]:
    """The available frame numbers inside ``wanted``; none is a ParamsError naming what there is."""
    out = [n for n in available if n in wanted]
    if not out:
        raise ParamsError(
            [f"frames {wanted}: camera {camera!r} has frames {describe(available)}; none selected"]
        )
    return out
