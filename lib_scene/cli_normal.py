"""``normal`` sub-command: ControlNet normal maps, ``DIR/<camera>.normal.png`` per camera."""

from __future__ import annotations

import argparse
import os
from typing import Any

from .canvas import discover, frame_numbers, load_camera, load_sidecar, source_files
from .cli_base import command
from .cli_base import say as _print
from .errors import SceneImportError
from .files import OutputBatch
from .normals import AXES_PRESETS, CONVENTIONS, build_normal_map, parse_axes
from .notices import emit, normal_map_notes
from .progress import Steps


def parse_fill(text: str) -> tuple[float, float, float]:
    """``"0,0,1"`` -> (0.0, 0.0, 1.0): a camera-space vector, each component in -1..1."""
    bits = [b for b in text.replace(";", ",").split(",") if b.strip()]
    try:
        vals = tuple(float(b) for b in bits)
    except ValueError:
        vals = ()
    if len(vals) != 3 or any(not (-1.0 <= v <= 1.0) for v in vals):
        raise argparse.ArgumentTypeError(f"--fill wants three numbers in -1..1 like 0,0,1, got {text!r}")
    return vals


def parse_axes_arg(text: str) -> str:
    """Check an ``--axes`` value (``auto``, a preset or three terms like ``x,-y,-z``)."""
    if text.strip().lower() != "auto":
        try:
            parse_axes(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def _normal_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="an EXR, a Daz canvas, or a folder of cameras")
    p.add_argument(
        "--sidecar",
        metavar="FILE|DIR",
        help="camera sidecar JSON with matrix_world (default: <stem>.json next to each EXR); "
        "a folder is searched for <camera>.json",
    )
    p.add_argument(
        "--convention",
        choices=CONVENTIONS,
        default="bae",
        help="bae (ControlNet 1.1, default) or midas (1.0)",
    )
    p.add_argument(
        "--fill",
        type=parse_fill,
        default=(0.0, 0.0, 1.0),
        metavar="X,Y,Z",
        help="camera-space normal for pixels without one (default 0,0,1: facing the camera)",
    )
    p.add_argument("--aov", metavar="NAME", help="use this camera-space normal pass (AOV)")
    p.add_argument(
        "--axes",
        type=parse_axes_arg,
        metavar="SPEC",
        help="axes of a camera-space source: camera right,up,toward-viewer from source channels, "
        f"e.g. x,y,z (default for Daz) or x,-y,-z; presets {', '.join(sorted(AXES_PRESETS))}; or auto",
    )
    p.add_argument("--space", choices=("world", "camera"), help="override the normal canvas's space")
    p.add_argument(
        "--out", required=True, metavar="DIR", help="folder for <camera>.normal.png (made if missing)"
    )
    p.add_argument("--layer", help="view layer to read")


def _sidecar_for(arg: str | None, camera: str, n_cams: int) -> tuple[dict[str, Any] | None, str | None]:
    if arg is None:
        return None, None
    if os.path.isdir(arg):
        cand = os.path.join(arg, camera + ".json")
        return (load_sidecar(cand), cand) if os.path.isfile(cand) else (None, None)
    if n_cams > 1:
        raise SceneImportError(
            f"--sidecar names one file but PATH holds {n_cams} cameras; give a folder of <camera>.json "
            "files or put each sidecar next to its EXR",
            arg,
        )
    return load_sidecar(arg), arg


@command(
    "normal",
    "ControlNet normal map per camera: <camera>.normal.png (camera space, bae or midas)",
    _normal_args,
)
def cmd_normal(args: argparse.Namespace) -> int:
    sources = discover([args.path])
    sides = [_sidecar_for(args.sidecar, src.camera, len(sources)) for src in sources]
    protect = [f for src in sources for f in source_files(src)] + [p for _, p in sides if p]
    batch = OutputBatch(protect=protect)
    todo = [
        (src, side, n)
        for src, (side, _) in zip(sources, sides, strict=True)
        for n in frame_numbers(src, args.frames)
    ]
    with Steps(2 * len(todo) + 1, "normal") as steps:
        for src, side, n in todo:  # one camera (frame) in memory at a time
            steps.next(f"{src.camera}: reading")
            cs = load_camera(src, layer=args.layer, frame=n)
            steps.next(f"{cs.out_stem}: normals")
            res = build_normal_map(
                cs,
                args.convention,
                sidecar=side,
                fill=args.fill,
                aov=args.aov,
                axes=args.axes,
                space=args.space,
            )
            batch.add_png(os.path.join(args.out, f"{cs.out_stem}.normal.png"), res.image)
            steps.print(f"{cs.out_stem}: {res.describe()}")
            emit([*cs.warnings, *res.warnings, *normal_map_notes(cs.out_stem, res.image)])
            del cs, res
        steps.next("encoding and writing")
        written = batch.commit()
    for path in written:
        _print(f"wrote {path}")
    return 0
