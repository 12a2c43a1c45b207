"""CLI commands ``plan`` (write each camera's exact webui request) and ``run`` (post them).

Files per camera, all at the generation size, all exactly what the payload carries:

* ``<camera>.payload.json``: the JSON body for ``/sdapi/v1/<mode>`` (the mode is in ``<camera>.plan.txt``);
* ``<camera>.depth.png``, ``<camera>.normal.png``: the ControlNet maps (8-bit RGB);
* ``<camera>.regions.png``: the Regional Prompter mask; ``<camera>.regions.json``: the region table;
* ``<camera>.prompt.txt``: the prompt; ``<camera>.init.png``: the img2img init image;
* ``<camera>.plan.txt``: endpoint, size, units, warnings, in words.

``run`` writes ``<camera>.png`` (and the webui's other images as ``<camera>-k.png``),
``<camera>.info.json`` and ``<camera>.infotext.txt``; a chained run (``chain.enabled``) also
``<camera>.warp.png`` (what earlier cameras carried into it, black where nothing) and
``<camera>.warp.mask.png`` (the inpaint mask sent, 255 = painted) for every camera after the first,
and with a seam blend pass ``<camera>.inpaint.png`` (the inpaint before the pass).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from .animation import out_stem
from .canvas import discover
from .cli_animate import needs_script
from .cli_base import add_frames, command, finite, int_in
from .cli_base import say as _print
from .depth import Quantized
from .errors import InputError, SceneImportError
from .files import OutputBatch
from .jsonio import load_json_file, parse_json
from .notices import emit
from .params import PlanParams
from .plan import GenerationPlan
from .progress import Steps
from .request import HostFacts, Planned, Scene, draw_seed, parse_params, resolve_planned
from .webui_client import (
    controlnet_models,
    controlnet_unit_count,
    detect_host,
    has_infotext_script,
    webui_url,
)
from .wire import endpoint, to_payload


def _plan_args(p: argparse.ArgumentParser, run: bool = False, anim: bool = False) -> None:
    p.add_argument("paths", nargs="+", metavar="SCENE", help="EXR files or folders (one camera or many)")
    if run:
        p.add_argument(
            "--webui",
            required=True,
            action="append",
            type=webui_url,
            metavar="URL",
            help="a webui, e.g. http://127.0.0.1:7860; give several to spread the job over them (Dask)",
        )
        p.add_argument(
            "--out",
            default="scene-import-output",
            metavar="DIR",
            help="where the images, <camera>.info.json and <camera>.infotext.txt go (default: scene-import-output)",
        )
        p.add_argument(
            "--timeout",
            type=finite(0.0, above=True),
            default=900.0,
            help="seconds to wait per generation (default 900)",
        )
        _cluster_args(p)
    else:
        p.add_argument(
            "--out", required=True, metavar="DIR", help="folder for the plans and maps (made if missing)"
        )
        p.add_argument(
            "--webui-models",
            type=webui_url,
            metavar="URL",
            help="ask this webui's /controlnet/model_list and pick each unit's model by kind",
        )
    p.add_argument(
        "--splits", metavar="PRESET.json", help="split preset for the depth map (default: automatic)"
    )
    p.add_argument("--descriptions", metavar="FILE", help=".properties, .json sidecar or 'index = text' file")
    p.add_argument(
        "--base-prompt", metavar="TEXT", help="style/quality text before the regions (default: none)"
    )
    p.add_argument("--negative-prompt", metavar="TEXT", help="negative prompt (default: none)")
    p.add_argument(
        "--mode",
        choices=("txt2img", "img2img"),
        help="default txt2img; img2img also writes <camera>.init.png",
    )
    p.add_argument("--camera", help="only this camera (or a comma-separated list; default: every camera)")
    p.add_argument(
        "--seed", type=int_in(-1, 2**32 - 1), help="one seed for every camera (default -1: one random seed)"
    )
    p.add_argument(
        "--params",
        metavar="JSON",
        help='PlanParams as JSON text or @file.json (e.g. \'{"depth": {"weight": 0.4}, "long_side": 768}\')',
    )
    p.add_argument(
        "--host",
        choices=("auto", "a1111", "forge"),
        default="auto",
        help="payload dialect (default auto: asked of the webui, else a1111)",
    )
    p.add_argument("--layer", help="view layer to read (default: the first with a depth pass)")
    p.add_argument(
        "--chain",
        action="store_true",
        help="chain the cameras: each after the first inpaints what the ones before it painted "
        '(short for --params \'{"chain": {"enabled": true}}\')',
    )
    add_frames(p)
    if anim:
        p.add_argument(
            "--fps", type=float, default=8.0, help="frames per second of the animation files (default 8)"
        )


def _cluster_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("several webuis (Dask distributed: pip install 'scene-import[cluster]')")
    g.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run each image as a task on this Dask cluster (default with several --webui: a local one)",
    )
    g.add_argument(
        "--retries", type=int, default=3, help="further attempts per image on other webuis (default 3)"
    )
    g.add_argument(
        "--backoff", type=float, default=0.5, help="seconds before the first retry, doubling (default 0.5)"
    )
    g.add_argument(
        "--frames-in-order",
        action="store_true",
        help="each camera's frames one after the other, each after the one before (default: any order)",
    )
    g.add_argument(
        "--local-cluster",
        choices=("processes", "threads"),
        default="processes",
        help="the local Dask cluster's workers, without --scheduler (default: processes)",
    )


def _params_data(args: argparse.Namespace) -> dict[str, Any]:
    """``--params`` (JSON text or @file) with the flags on top. ``--splits``/``--descriptions`` are
    shell paths: made absolute here (from the working directory) before they go into params, where
    a relative path means "relative to the scene folder"."""
    data: object = {}
    if args.params:
        text = args.params
        if text.startswith("@"):
            data = load_json_file(text[1:], "params file (--params @FILE)")
        else:
            data = parse_json(text, "--params")
        if not isinstance(data, dict):
            raise InputError("--params must be a JSON object")
    out: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    for key in ("base_prompt", "negative_prompt", "mode", "camera", "seed", "frames"):
        if getattr(args, key, None) is not None:
            out[key] = getattr(args, key)
    for key in ("splits", "descriptions"):
        if getattr(args, key, None):
            out[key] = os.path.abspath(getattr(args, key))
    if getattr(args, "chain", False):
        chain = out.get("chain")
        out["chain"] = {**(chain if isinstance(chain, dict) else {}), "enabled": True}
    return out


def scene_of(paths: list[str], layer: str | None = None) -> Scene:
    """The CLI's scene: the given files/folders; params' relative paths start at the first one's
    folder (the scene folder)."""
    first = os.path.abspath(paths[0])
    folder = first if os.path.isdir(first) else os.path.dirname(first)
    return Scene(folder, paths=tuple(paths), layer=layer)


def plan_request(args: argparse.Namespace, facts: HostFacts) -> list[Planned]:
    """Resolve the command line's scene and params (``lib_scene.request``)."""
    params: PlanParams = parse_params(_params_data(args), facts)
    return resolve_planned(scene_of(args.paths, args.layer), params, facts)


def plan_outputs(plan: GenerationPlan, payload: dict[str, Any], out: str, batch: OutputBatch) -> None:
    """Add one camera's payload, maps, prompt and region table to ``batch``."""
    base = os.path.join(out, out_stem(plan))
    batch.add(base + ".payload.json", json.dumps(payload, indent=1) + "\n")
    for u in plan.units:
        batch.add_png(f"{base}.{u.kind}.png", u.image)
    if plan.regional is not None:
        batch.add_png(base + ".regions.png", plan.regional.mask)
    batch.add(base + ".regions.json", json.dumps(list(plan.regions), indent=1) + "\n")
    batch.add(base + ".prompt.txt", plan.prompt + "\n")
    if plan.init_image is not None:
        batch.add_png(base + ".init.png", plan.init_image)
    batch.add(base + ".plan.txt", describe(plan) + "\n")


def describe(plan: GenerationPlan) -> str:
    lines = [
        f"camera {out_stem(plan)}: POST {endpoint(plan)}  {plan.width}x{plan.height}  seed {plan.seed}",
    ]
    for u in plan.units:
        lines.append(
            f"  ControlNet {u.kind}: {u.model}, weight {u.weight:g}, guidance {u.guidance_start:g}-"
            f"{u.guidance_end:g}, {u.control_mode}"
        )
    if plan.regional is not None:
        rp = plan.regional
        lines.append(
            f"  Regional Prompter: {rp.mode}, {len(rp.colors)} regions, base ratio {rp.base_ratio:g}, "
            f"use base {rp.use_base}, {rp.calc}"
        )
    if plan.chain.get("step"):
        lines.append(
            f"  chained: step {plan.chain['step'] + 1} of {len(plan.chain.get('order', []))}; an img2img "
            "inpaint of the earlier cameras' images warped into this one (made at run time)"
        )
    elif plan.mode == "img2img":
        lines.append(f"  img2img from the beauty, denoise {plan.denoising_strength:g}")
    lines.append(f"  prompt: {plan.prompt}")
    lines.extend(f"  warning: {w}" for w in plan.warnings)
    return "\n".join(lines)


def _input_files(plans: list[GenerationPlan], args: argparse.Namespace) -> list[str]:
    files = [f for pl in plans for f in pl.source.get("files", [])]
    return files + [os.path.abspath(f) for f in (args.splits, args.descriptions) if f]


# --------------------------------------------------------------------------- plan


@command(
    "plan",
    "write each camera's exact /sdapi/v1/txt2img|img2img body (<camera>.payload.json) with its maps and prompt",
    _plan_args,
)
def cmd_plan(args: argparse.Namespace) -> int:
    facts = HostFacts(dialect="a1111" if args.host == "auto" else args.host)
    if args.webui_models:
        url = args.webui_models
        facts = host_of(url, args.host)
        _print(
            f"{len(facts.models or ())} ControlNet models at {url} ({facts.dialect}, {facts.unit_count} units)"
        )
    with Steps(3, "plan") as steps:
        steps.next("reading and planning")
        planned = plan_request(args, facts)
        steps.set_total(2 + len(planned))
        plans = [pl.plan for pl in planned]
        batch = OutputBatch(protect=_input_files(plans, args))
        for pl in planned:
            steps.next(f"{out_stem(pl.plan)}: maps")
            payload = to_payload(pl.plan, facts.dialect, facts.unit_count, infotext=facts.infotext_script)
            plan_outputs(pl.plan, payload, args.out, batch)
            steps.print(describe(pl.plan))
            emit(pl.plan.warnings)
        for pl in planned:
            cs = pl.canvases
            if (
                pl.splits is not None and cs.depth is not None
            ):  # the test-colour image of the splits, canvas size
                rgb = Quantized.of(cs.depth, cs.hit, pl.splits).test_image()
                batch.add_png(os.path.join(args.out, out_stem(pl.plan) + ".test.png"), rgb)
        steps.next("encoding and writing")
        written = batch.commit()
    for path in written:
        _print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------- run


def host_of(url: str, host: str = "auto") -> HostFacts:
    """What the webui at ``url`` offers: ControlNet's models and slots, the payload dialect, and
    whether it has Scene Import's companion infotext Script (then payloads carry our infotext)."""
    return HostFacts(
        models=tuple(controlnet_models(url)),
        unit_count=controlnet_unit_count(url),
        dialect=detect_host(url) if host == "auto" else host,
        infotext_script=has_infotext_script(url),
    )


@command(
    "run",
    "plan every camera (and frame, variation) and generate it on a running webui, or over several "
    "(Dask), one seed for all; chained with --chain; saving images and infotext; a rerun skips the "
    "images already there with the same plan",
    lambda p: _plan_args(p, run=True, anim=True),
)
def cmd_run(args: argparse.Namespace) -> int:
    if len(args.webui) > 1 or args.scheduler:
        return _run_cluster(args)
    # here: plan needs none of the run job's imports
    from .jobs import (
        build_tasks,
        chain_camera_order,
        job_key,
        keep_seed,
        kept_seed,
        plan_tasks,
        refuse_chained_animation,
        resume_tasks,
    )
    from .run_job import RunJob

    url = args.webui[0]
    facts = host_of(url, args.host)
    data = _params_data(args)
    params = parse_params(data, facts)
    key = job_key(data, args.paths)
    seed = params.seed
    if seed == -1:  # one seed per job, kept in OUT so that a rerun resumes the job with it
        kept = kept_seed(args.out, key)
        if kept is not None:
            _print(f"resuming the job in {args.out} with its seed {kept}")
        seed = draw_seed() if kept is None else kept
    # the Dask path's task list: which images, in which order, which depend on which
    refuse_chained_animation(params)
    sources = discover(list(args.paths))
    order = chain_camera_order(sources, params, args.layer) if params.chain.enabled else None
    tasks = build_tasks(sources, params, chain=order)
    planned = plan_tasks(tasks, scene_of(args.paths, args.layer), params.replace(seed=seed), facts)
    keep_seed(args.out, key, seed)  # planned: the inputs are good
    plans = [pl.plan for pl in planned.values()]
    job = RunJob(url, facts, args.out, args.timeout, _input_files(plans, args), resume_tasks(args.out, tasks))
    via_script = needs_script(plans)
    _print(
        f"{len(tasks)} image(s), seed {seed} for every camera and frame, {facts.dialect} at {url}"
        + (f", chained: {' > '.join(order)}" + (", per frame" if plans[0].animation else "") if order else "")
        + (" (travel/variations: through the webui's Scene Import Script)" if via_script else "")
    )
    try:
        job.run(planned, data, args.layer, args.fps)
    except SceneImportError as exc:
        return job.stopped(exc)
    for path in job.files:
        _print(f"wrote {path}")
    _print(job.summary())
    return 0


def _run_cluster(args: argparse.Namespace) -> int:
    """Several webuis or a Dask scheduler: each image a Dask task (``lib_scene.cluster``)."""
    from .cluster import ClusterOptions, run_job

    opts = ClusterOptions(
        paths=tuple(args.paths),
        urls=tuple(args.webui),
        out=args.out,
        scheduler=args.scheduler,
        layer=args.layer,
        timeout=args.timeout,
        retries=max(0, args.retries),
        backoff=max(0.0, args.backoff),
        frames_in_order=args.frames_in_order,
        processes=args.local_cluster == "processes",
        fps=args.fps,
        protect=tuple(os.path.abspath(f) for f in (args.splits, args.descriptions) if f),
    )
    return run_job(opts, _params_data(args))
