"""Command-line tool: ``python -m lib_scene`` / ``scene-import``.

The commands, their names and their outputs are a contract other tools call; keep them stable.
Every command takes PATH as a file or a folder; a folder may hold several cameras.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import numpy as np

from . import __version__
from .canvas import CanvasSet, discover, frame_numbers, load_camera, source_files
from .cli_base import COMMANDS, CUTOFF, MAX_BINS, add_frames, command, depth_and_hit, int_in, iter_cameras
from .cli_base import say as _print
from .depth import Quantized, depth_splits, histogram, suggest_cuts
from .errors import SceneImportError
from .files import OutputBatch
from .frames import describe as describe_frames
from .frames import parse_frames, select_frames
from .notices import depth_map_notes, emit, region_mask_notes
from .progress import Steps, progress
from .splits import SplitPlan, load_preset

#: The command modules registered with ``cli_base.command`` (imported for that, by build_parser).
COMMAND_MODULES = ("cli_regions", "cli_normal", "cli_plan", "cli_warp")
#: The module of each command in COMMAND_MODULES: running one imports only its own module
#: (``plan`` starts faster without warp, normals and regions' command modules).
MODULE_OF = {
    "regions": "cli_regions",
    "normal": "cli_normal",
    "plan": "cli_plan",
    "run": "cli_plan",
    "warp": "cli_warp",
    "consistency": "cli_warp",
}
#: This module's own commands: running one of them does not import the other command modules
#: (``depth`` starts faster without the webui client, warp and their imports).
CORE = ("info", "histogram", "depth", "shell")
#: The order ``--help`` lists the commands in.
ORDER = ("info", "histogram", "depth", "regions", "normal", "plan", "run", "warp", "consistency", "shell")


def _frame(cs: CanvasSet) -> str:
    return "" if cs.frame is None else f" frame {cs.frame}"


def _unit(cs: CanvasSet) -> str:
    return "cm" if cs.depth_unit == "cm" else "units"


# --------------------------------------------------------------------------- info


def _info_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="EXR files, Daz canvas sets or folders of cameras"
    )
    p.add_argument("--layer", help="view layer to read (default: the first with a depth pass)")


@command(
    "info", "list the canvases found per camera, channels, size, depth range and no-hit pixels", _info_args
)
def cmd_info(args: argparse.Namespace) -> int:
    _frame_ranges(args.paths, args.frames)
    for cs in iter_cameras(args.paths, args.layer, args.frames):
        emit(cs.warnings)
        _print(
            f"camera {cs.camera}{_frame(cs)}  ({cs.layout}, {cs.width}x{cs.height}{', layer ' + cs.layer if cs.layer else ''})"
        )
        for path, chans in cs.channels.items():
            _print(f"  file {path}")
            _print(f"    channels: {', '.join(chans)}")
        kinds = cs.passes()
        _print(f"  canvases: {', '.join(kinds) or 'none recognised'}")
        if cs.aovs:
            _print(f"  other passes: {', '.join(sorted(cs.aovs))}")
        if cs.depth is not None:
            rng = cs.depth_range()
            total = cs.width * cs.height
            if rng:
                _print(f"  depth ({cs.depth_kind}, {_unit(cs)}): {rng[0]:.6g} .. {rng[1]:.6g} over hits")
            else:
                _print("  depth: no hit pixels")
            _print(f"  no-hit pixels: {cs.no_hit_count} ({100.0 * cs.no_hit_count / total:.2f}%)")
        if cs.normal is not None:
            _print(f"  normal space: {cs.normal_space}")
        if cs.object_index is not None:
            ids = np.unique(np.rint(cs.object_index[np.isfinite(cs.object_index)]).astype(np.int64))
            _print(f"  object indices: {', '.join(map(str, ids[:32]))}{' ...' if ids.size > 32 else ''}")
        if cs.sidecar_path:
            _print(f"  sidecar: {cs.sidecar_path}")
    return 0


def _frame_ranges(paths: list[str], frames: str | None) -> None:
    """One line per frame-sequence camera: its frame range and the frames selected."""
    for src in discover(paths):
        if src.frames:
            chosen = select_frames(src.frame_numbers, parse_frames(frames), src.camera)
            _print(
                f"camera {src.camera}: frames {describe_frames(src.frame_numbers)} "
                f"({len(src.frames)} files); selected {describe_frames(chosen)}"
            )


# --------------------------------------------------------------------------- histogram


def _histogram_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="an EXR, a Daz canvas set or a folder of cameras")
    p.add_argument(
        "--bins", type=int_in(1, MAX_BINS), default=20, help=f"number of bins, 1 to {MAX_BINS} (default 20)"
    )
    p.add_argument(
        "--cutoff", type=CUTOFF, metavar="DEPTH", help="ignore depth at or past this (a number > 0)"
    )
    p.add_argument("--layer", help="view layer to read (default: the first with a depth pass)")


@command("histogram", "print the depth histogram over hit pixels (bin, percent, range)", _histogram_args)
def cmd_histogram(args: argparse.Namespace) -> int:
    todo = [(src, n) for src in discover([args.path]) for n in frame_numbers(src, args.frames)]
    for src, n in progress(todo, "reading", unit="camera"):
        cs = load_camera(src, layer=args.layer, need=("depth", "object"), frame=n)  # only what it shows
        emit(cs.warnings)
        depth, hit = depth_and_hit(cs)
        h = histogram(depth, hit, bins=args.bins, cutoff=args.cutoff)
        _print(f"camera {cs.camera}{_frame(cs)} ({_unit(cs)})")
        _print(h.describe())
        sugg = suggest_cuts(depth, hit, cs.object_index)
        if sugg:
            _print("suggested cuts:")
            for s in sorted(sugg, key=lambda s: s.depth):
                what = f"{s.reason} of index {s.index}" if s.index is not None else s.reason
                _print(f"  {s.depth:.6g}  {what}")
    return 0


# --------------------------------------------------------------------------- depth


def depth_outputs(
    cs: CanvasSet,
    plan: SplitPlan,
    out: str,
    batch: OutputBatch,
    sixteen: bool = False,
    regions: bool = True,
    notes: list[str] | None = None,
) -> Quantized:
    """Queue <camera>.depth.png, .test.png (and .regions.png, .depth16.png); return the quantisation.
    Honest warnings about them (all-black maps) are appended to ``notes``."""
    q = Quantized.of(cs.require_depth(), cs.hit, plan)
    base = os.path.join(out, cs.out_stem)
    grey = q.grey()
    batch.add_png(base + ".depth.png", grey)
    if notes is not None:
        notes.extend(depth_map_notes(cs.camera, grey, cs.hit, cs.depth_unit))
    if sixteen:
        batch.add_png(base + ".depth16.png", grey.astype(np.uint16) * 257)
    batch.add_png(base + ".test.png", q.test_image())
    if regions:
        rgb = q.region_image()
        batch.add_png(base + ".regions.png", rgb)
        if notes is not None:
            hint = "no split has a 'region' number; give region numbers in the --splits preset, or use the regions command"
            notes.extend(region_mask_notes(cs.camera, rgb, hint))
    return q


def _depth_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="an EXR, a Daz canvas set or a folder of cameras")
    p.add_argument("--splits", metavar="PRESET.json", help="split preset (default: automatic)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the images (made if missing)")
    p.add_argument(
        "--cutoff",
        type=CUTOFF,
        metavar="DEPTH",
        help="override the preset's cutoff (a number > 0; at or past it: black)",
    )
    p.add_argument("--16bit", dest="sixteen", action="store_true", help="also write <camera>.depth16.png")
    p.add_argument("--layer", help="view layer to read (default: the first with a depth pass)")


@command(
    "depth", "quantise depth with a split preset: <camera>.depth.png, .test.png, .regions.png", _depth_args
)
def cmd_depth(args: argparse.Namespace) -> int:
    preset = load_preset(args.splits) if args.splits else None
    sources = discover([args.path])
    todo = [(src, n) for src in sources for n in frame_numbers(src, args.frames)]
    batch = OutputBatch(
        protect=[f for src in sources for f in source_files(src)] + ([args.splits] if args.splits else [])
    )
    with Steps(2 * len(todo) + 1, "depth") as steps:
        for src, n in todo:  # one camera (frame) in memory at a time, its depth pass only
            steps.next(f"{src.camera}{'' if n is None else f' frame {n}'}: reading")
            cs = load_camera(src, layer=args.layer, need=("depth",), frame=n)
            steps.next(f"{src.camera}: quantising")
            plan = depth_splits(cs, preset, args.cutoff)
            notes = list(cs.warnings)
            q = depth_outputs(cs, plan, args.out, batch, sixteen=args.sixteen, notes=notes)
            steps.print(f"{cs.camera}: {q.usage().describe()}")
            emit(notes)
            del cs, q
        steps.next("encoding and writing")
        written = batch.commit()
    for path in written:
        _print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------- shell


def _shell_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="an EXR, a Daz canvas set or a folder of cameras")
    p.add_argument("--splits", metavar="PRESET.json", help="start from this preset")
    p.add_argument(
        "--out", default=".", metavar="DIR", help="where 'write' and 'test' put images (default: .)"
    )
    p.add_argument("--layer", help="view layer to read (default: the first with a depth pass)")


@command("shell", "interactive split editor for artists who know the DDP shell", _shell_args)
def cmd_shell(args: argparse.Namespace) -> int:
    from .shell import SplitShell

    cams = list(iter_cameras([args.path], args.layer, args.frames))
    preset = load_preset(args.splits) if args.splits else None
    sh = SplitShell(cams, plan=preset, out=args.out)
    sh.cmdloop()
    return 0


# --------------------------------------------------------------------------- main


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; of this module's own and ``command``'s when it is one (a
    command of another module: that module's too, :data:`MODULE_OF`)."""
    if command not in CORE:
        own = MODULE_OF.get(command or "")
        for name in (own,) if own else COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{name}")
    parser = argparse.ArgumentParser(
        prog="scene-import",
        description="Blender/Daz EXR render canvases -> ControlNet maps, Regional Prompter masks and prompts.",
    )
    parser.add_argument("--version", action="version", version=f"scene-import {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    rank = {name: i for i, name in enumerate(ORDER)}
    for name, help_, add, run in sorted(COMMANDS, key=lambda c: rank.get(c[0], len(ORDER))):
        p = sub.add_parser(name, help=help_, description=help_)
        add(p)
        if not any("--frames" in a.option_strings for a in p._actions):
            add_frames(p)  # every command takes --frames A-B (frame-sequence cameras)
        p.set_defaults(_run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except SceneImportError as exc:
        print(f"scene-import: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("scene-import: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``scene-import histogram ... | head``): stop quietly, like cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


if __name__ == "__main__":
    sys.exit(main())
