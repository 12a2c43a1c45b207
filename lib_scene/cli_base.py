"""The command registry of the CLI (``lib_scene.cli``) and helpers its command modules share."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from typing import Any

from numpy.typing import NDArray

from .canvas import CanvasSet, discover, load_frames
from .errors import CanvasError

#: (name, help, add_arguments, run) of every sub-command, in registration order.
Command = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: list[Command] = []


def command(
    name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register ``fn(args) -> exit code`` as sub-command ``name``; ``arguments(parser)`` adds its options."""

    def deco(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS.append((name, help, arguments, fn))
        return fn

    return deco


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [lo, hi] (argparse names the flag and exits 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range; give {lo} to {hi}")
        return value

    parse.__name__ = "whole number"
    return parse


def finite(lo: float | None = None, hi: float | None = None, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number (not nan/inf) >= lo (> lo when ``above``) and <= hi."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if lo is not None and (value <= lo if above else value < lo):
            raise argparse.ArgumentTypeError(
                f"{text} is too small; give a number {'above' if above else 'from'} {lo:g}"
            )
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"{text} is too large; give at most {hi:g}")
        return value

    parse.__name__ = "number"
    return parse


#: --cutoff everywhere: a finite depth above 0 (depth at or past it is black).
CUTOFF = finite(0.0, above=True)
#: --bins: enough for any histogram worth printing, small enough to allocate.
MAX_BINS = 4096


def say(*a: object) -> None:
    """Print a line of the command's output (flushed)."""
    print(*a, flush=True)


def add_frames(p: argparse.ArgumentParser) -> None:
    """``--frames A-B``: which frames of a frame-sequence camera (default all)."""
    p.add_argument(
        "--frames",
        metavar="A-B",
        help="frames of a sequence camera (Cam0_0001.exr ...): 'A-B', 'A', 'A-', '-B' (default: all)",
    )


def iter_cameras(
    paths: list[str], layer: str | None = None, frames: str | None = None
) -> Iterator[CanvasSet]:
    """Yield the loaded canvas set of every camera under ``paths`` (every selected frame of a sequence)."""
    for src in discover(paths):
        yield from load_frames(src, layer=layer, frames=frames)


def input_files(cs: CanvasSet) -> list[str]:
    """The files a camera was read from (outputs must never replace them)."""
    files = list(cs.channels)
    if cs.sidecar_path:
        files.append(cs.sidecar_path)
    return files


def depth_and_hit(cs: CanvasSet) -> tuple[NDArray[Any], NDArray[Any]]:
    """The camera's depth canvas and its hit mask (a clear error without a depth canvas)."""
    depth = cs.require_depth()
    if cs.hit is None:
        raise CanvasError(f"camera {cs.camera!r} has no hit mask for its depth canvas", cs.primary_path)
    return depth, cs.hit
