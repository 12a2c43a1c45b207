"""``warp`` and ``consistency`` sub-commands: carry an image of one camera into another.

``scene-import warp SCENE_DIR --from CAM_A [--from CAM_C ...] --to CAM_B --image IMG [--image IMG_C ...]
--out OUT_DIR`` writes ``OUT_DIR/CAM_B.warp.png`` (the warped image at B's aspect with the long side
of the first IMG, black where nothing was carried) and ``OUT_DIR/CAM_B.warp.mask.png`` (255 where B
must be painted, 0 where content was carried). One ``--image`` per ``--from``, in the same order;
earlier sources win where several saw a surface.

``scene-import consistency SCENE_DIR --images DIR [--json]`` scores how well ``DIR/<camera>.png``
images agree on the pixels each pair of cameras both sees (PSNR and mean absolute error).
"""

from __future__ import annotations

import argparse
import json
import os

from .camera import source_files
from .canvas import CameraSource, CanvasSet, discover, load_camera
from .cli_base import command
from .cli_base import say as _print
from .consistency import read_rgb, scene_consistency
from .errors import SceneImportError
from .files import OutputBatch
from .reproject import DEFAULT_TOL, View, WarpError, output_size, same_aspect, warp


def _tol(text: str) -> float:
    try:
        val = float(text)
    except ValueError:
        val = -1.0
    if not 0 < val < 1:
        raise argparse.ArgumentTypeError(f"--tol wants a relative depth tolerance in (0, 1), got {text!r}")
    return val


def _scene_cameras(scene: str) -> dict[str, CameraSource]:
    if not os.path.isdir(scene):
        raise SceneImportError("SCENE_DIR must be a folder of camera EXRs (and their sidecars)", scene)
    return {s.camera: s for s in discover([scene])}


def _load(cams: dict[str, CameraSource], name: str, scene: str, layer: str | None) -> CanvasSet:
    if name not in cams:
        raise SceneImportError(f"no camera {name!r} in the scene; it has {', '.join(sorted(cams))}", scene)
    return load_camera(cams[name], layer=layer)


def _warp_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scene", metavar="SCENE_DIR", help="folder of camera EXRs with their sidecar JSONs")
    p.add_argument(
        "--from", dest="sources", action="append", required=True, metavar="CAM_A",
        help="source camera (repeat to accumulate several; earlier ones win)",
    )  # fmt: skip
    p.add_argument("--to", dest="target", required=True, metavar="CAM_B", help="target camera")
    p.add_argument(
        "--image", dest="images", action="append", required=True, metavar="IMG",
        help="image of a source camera's view (its canvas size or any size with its aspect); "
        "one per --from, in the same order",
    )  # fmt: skip
    p.add_argument(
        "--out", required=True, metavar="OUT_DIR", help="folder for the warped images (made if missing)"
    )
    p.add_argument(
        "--tol", type=_tol, default=DEFAULT_TOL, help=f"relative depth tolerance (default {DEFAULT_TOL})"
    )
    p.add_argument("--layer", help="view layer to read")


@command(
    "warp",
    "carry images of source cameras into a target camera: <CAM_B>.warp.png and <CAM_B>.warp.mask.png",
    _warp_args,
)
def cmd_warp(args: argparse.Namespace) -> int:
    if len(args.images) != len(args.sources):
        raise SceneImportError(
            f"give one --image per --from, in the same order ({len(args.sources)} --from, "
            f"{len(args.images)} --image)"
        )
    cams = _scene_cameras(args.scene)
    target = _load(cams, args.target, args.scene, args.layer)
    loaded = {args.target: target}
    for name in args.sources:
        loaded.setdefault(name, _load(cams, name, args.scene, args.layer))
    views = {name: View.of(cs) for name, cs in loaded.items()}
    images = [read_rgb(p) for p in args.images]
    for name, img, path in zip(args.sources, images, args.images, strict=True):
        cam = views[name].camera
        if not same_aspect(img.shape[1], img.shape[0], cam):
            raise WarpError(
                f"the image is {img.shape[1]}x{img.shape[0]}, not the aspect of camera {name!r} "
                f"({cam.width}x{cam.height}); give an image of {name}'s view at any size with its aspect",
                path,
            )
    pairs = [(views[name], img) for name, img in zip(args.sources, images, strict=True)]
    size = output_size(views[args.target].camera, max(images[0].shape[:2]))
    res = warp(pairs, views[args.target], size, tol=args.tol)
    protect = [f for cs in loaded.values() for f in source_files(cs)] + list(args.images)
    batch = OutputBatch(protect=protect)
    base = os.path.join(args.out, args.target)
    batch.add_png(base + ".warp.png", res.image)
    batch.add_png(base + ".warp.mask.png", res.mask)
    share = ", ".join(
        f"{100.0 * float((res.source == k).mean()):.1f}% from {name}" for k, name in enumerate(args.sources)
    )
    _print(
        f"{args.target} ({size[0]}x{size[1]}): {share}; {100.0 * float((res.mask > 0).mean()):.1f}% to paint"
    )
    for path in batch.commit():
        _print(f"wrote {path}")
    return 0


def _consistency_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scene", metavar="SCENE_DIR", help="folder of camera EXRs with their sidecar JSONs")
    p.add_argument("--images", required=True, metavar="DIR", help="folder of <camera>.png images")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--tol", type=_tol, default=DEFAULT_TOL, help=f"relative depth tolerance (default {DEFAULT_TOL})"
    )
    p.add_argument("--layer", help="view layer to read")


@command(
    "consistency",
    "per camera pair, PSNR and mean absolute error of <camera>.png images on the pixels both see",
    _consistency_args,
)
def cmd_consistency(args: argparse.Namespace) -> int:
    cams = _scene_cameras(args.scene)
    if not os.path.isdir(args.images):
        raise SceneImportError("--images must be a folder of <camera>.png images", args.images)
    names = [n for n in sorted(cams) if os.path.isfile(os.path.join(args.images, n + ".png"))]
    if len(names) < 2:
        raise SceneImportError(
            f"consistency needs <camera>.png images of at least two cameras of the scene "
            f"({', '.join(sorted(cams))}); found {len(names)}",
            args.images,
        )
    views = {n: View.of(_load(cams, n, args.scene, args.layer)) for n in names}
    images = {n: read_rgb(os.path.join(args.images, n + ".png")) for n in names}
    score = scene_consistency(views, images, names, tol=args.tol)
    if args.json:
        _print(json.dumps(score.as_dict(), indent=1))
    else:
        _print(score.table())
    return 0
