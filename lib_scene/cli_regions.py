"""``regions`` sub-command: index passes -> Regional Prompter mask, region table and prompt per camera."""

from __future__ import annotations

import argparse
import os

from .canvas import discover, frame_numbers, load_camera, source_files
from .cli_base import command, int_in
from .cli_base import say as _print
from .errors import SceneImportError
from .files import OutputBatch
from .notices import emit, region_mask_notes
from .progress import Steps
from .regions import (
    DEFAULT_THRESHOLD,
    FORMS,
    ORDERS,
    build_prompt,
    build_regions,
    load_descriptions,
    region_outputs,
)
from .splits import load_preset


def _regions_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="an EXR, a Daz canvas set or a folder of cameras")
    p.add_argument(
        "--descriptions",
        metavar="FILE",
        help="descriptions (.properties, .json sidecar or 'index = text'); default: each EXR's <stem>.json",
    )
    p.add_argument(
        "--source",
        default="auto",
        metavar="SRC",
        help="index|material|aov:NAME|cryptomatte[:LAYER]|splits (default: the --splits preset's region "
        "flags when given, else the object index when a sidecar names its pass indices, else Cryptomatte "
        "(object names from its manifest), else the object index, the material index, an AOV named like *index*)",
    )
    p.add_argument("--splits", metavar="PRESET.json", help="split preset whose region flags make regions")
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="F",
        help=f"an index is visible above this share of the frame (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument(
        "--order",
        choices=ORDERS,
        default="depth",
        help="nearest first by median depth or by distance (default: depth)",
    )
    p.add_argument(
        "--grow",
        type=int_in(0, 64),
        default=1,
        metavar="N",
        help="seam growth in pixels, 0 to 64 (default 1)",
    )
    p.add_argument(
        "--base-prompt", default="", metavar="TEXT", help="base prompt (style, quality; default: none)"
    )
    p.add_argument("--form", choices=FORMS, default="regional", help="prompt form (default regional)")
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder for the masks, region tables and prompts (made if missing)",
    )
    p.add_argument("--layer", help="view layer to read (default: the first with a depth pass)")


@command(
    "regions",
    "Regional Prompter mask, region table and nearest-first prompt: <camera>.regions.png, .regions.json, "
    ".prompt.txt",
    _regions_args,
)
def cmd_regions(args: argparse.Namespace) -> int:
    if args.grow < 0:
        raise SceneImportError(f"--grow must be >= 0, got {args.grow}")
    descriptions = load_descriptions(args.descriptions) if args.descriptions else None
    plan = load_preset(args.splits) if args.splits else None
    sources = discover([args.path])
    protect = [f for src in sources for f in source_files(src)]
    protect += [p for p in (args.descriptions, args.splits) if p]
    batch = OutputBatch(protect=protect)
    source = args.source
    if source == "auto" and plan is not None and any(s.region is not None for s in plan.splits):
        source = "splits"  # a preset with region flags given on purpose: its regions, not the index pass
    todo = [(src, n) for src in sources for n in frame_numbers(src, args.frames)]
    with Steps(2 * len(todo) + 1, "regions") as steps:
        for src, n in todo:  # one camera (frame) in memory at a time
            steps.next(f"{src.camera}: reading")
            cs = load_camera(src, layer=args.layer, frame=n)
            steps.next(f"{cs.out_stem}: regions")
            result = build_regions(
                cs,
                descriptions=descriptions,
                source=source,
                threshold=args.threshold,
                order=args.order,
                grow=args.grow,
                splits=plan,
            )
            prompt = build_prompt(args.base_prompt, result, form=args.form)
            region_outputs(cs, result, prompt, args.out, batch)
            steps.print(
                f"{cs.out_stem}: {len(result.regions)} region(s) from {result.source}, "
                f"nearest first by {result.order}"
            )
            unit = "cm" if result.depth_unit == "cm" else "units"
            for r in result.regions:
                depth = "-" if r.median_depth is None else f"{r.median_depth:.4g} {unit}"
                steps.print(
                    f"  {r.number:>2} rgb{r.color} idx {','.join(map(str, r.indices))} "
                    f"{100 * r.coverage:5.2f}%  depth {depth}  {r.description}"
                )
            if not result.regions:
                steps.print("  no regions: plain prompt, all-black mask")
            hint = "no object covers the visibility threshold"
            emit([*cs.warnings, *region_mask_notes(cs.camera, result.mask, hint)])
            for w in dict.fromkeys([*result.warnings, *prompt.warnings]):
                steps.print(f"  warning: {w}")
            steps.print(f"  prompt: {prompt.text}")
            del cs, result
        steps.next("encoding and writing")
        written = batch.commit()
    for path in written:
        _print(f"wrote {os.path.relpath(path) if not os.path.isabs(args.out) else path}")
    return 0
