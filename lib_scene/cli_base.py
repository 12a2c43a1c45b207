"""The command registry of the CLI (``lib_scene.cli``) and helpers its command modules share."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import Any

from numpy.typing import NDArray

from .canvas import CanvasSet, discover, load_camera
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


def say(*a: object) -> None:
    """Print a line of the command's output (flushed)."""
    print(*a, flush=True)


def iter_cameras(paths: list[str], layer: str | None = None) -> Iterator[CanvasSet]:
    """Yield the loaded canvas set of every camera under ``paths``."""
    for src in discover(paths):
        yield load_camera(src, layer=layer)


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
