"""A generation job as a list of tasks, each one image: (camera, frame, variation), pure and serialisable.

The one list of "which images, in which order, which depend on which" (:func:`build_tasks`) for both
``run`` paths. Over several webuis (``lib_scene.cluster``) each :class:`Task` is shipped to a Dask
worker, which plans it next to the data (:func:`plan_task`) and generates it
(``lib_scene.job_step.generate``); the machine that runs ``run`` writes what comes back
(:func:`write_result`), atomically, exactly once per task. On one webui (``lib_scene.run_job``) the
same tasks are planned up front (:func:`plan_tasks`) and generated in list order by the same
``generate``, each written by the same :func:`write_result`.

* **Frames**: a frame-sequence camera (``lib_scene.frames``: ``Cam0_0001.exr``, ``Cam0.0001.exr``,
  ``####``) has one task per selected frame (``--frames A-B``), in frame order; a still camera has one
  task, frame None.
* **Dependencies**: a task may name the tasks it depends on (``depends_on``: the camera's previous
  frame with ``frames_in_order``; every camera before it in a multi-camera chain, ``chain``); it runs
  after them and receives their results.
* **Chains** (``chain.enabled``): per frame (and variation) the cameras run in one chain order
  (:func:`chain_camera_order`); camera k's task carries a
  :class:`ChainLink` (its step, the order, the earlier cameras) and depends on every earlier camera
  of its frame, whose images are warped into it (``lib_scene.chain.chain_step``). A chain takes no
  travel or variations (:func:`refuse_chained_animation`).
* **Resume**: every written image has ``<base>.info.json`` with the task's plan hash (the SHA-256 of
  the exact request body: prompt, seed, maps, settings; for a chained camera the inpaint's body,
  which holds the earlier cameras' images warped into it). A rerun with the same plan skips a task
  whose image exists with the same hash (:func:`resume_tasks`); a changed plan regenerates it.
  A chained camera already done carries its image (read from ``--out``) with its task
  (``done_image``), for the cameras after it.
  A random seed (``-1``) is drawn once per job and kept in ``OUT/scene-import-job.json``
  (:func:`job_seed`; the one-webui loop: :func:`kept_seed`, :func:`keep_seed`). Nothing here imports
  Dask.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .animation import camera_frames, out_stem
from .canvas import CameraSource, CanvasSet, load_camera
from .chain import chain_order
from .cli_base import say
from .errors import ParamsError, PlanError
from .files import OutputBatch, atomic_write_text
from .frames import frame_sidecar
from .movie import animated, mp4
from .params import PlanParams
from .request import HostFacts, Planned, Scene, draw_seed, resolve_planned, select_cameras
from .travel import Variations
from .wire import without_infotext

__all__ = [
    "JOB_FILE",
    "animations",
    "ChainLink",
    "Task",
    "TaskResult",
    "build_tasks",
    "chain_camera_order",
    "existing_hash",
    "existing_hashes",
    "job_key",
    "job_seed",
    "keep_seed",
    "kept_seed",
    "output_base",
    "plan_hash",
    "plan_task",
    "plan_tasks",
    "refuse_chained_animation",
    "result_meta",
    "resume_tasks",
    "task_files",
    "write_image",
    "write_result",
]

#: The file in the output folder that keeps a job's drawn seed, so that a rerun resumes it.
JOB_FILE = "scene-import-job.json"


@dataclass(frozen=True)
class ChainLink:
    """A chained camera's place in its frame's chain."""

    step: int  # 0 for the first camera
    order: tuple[str, ...]  # the chain's cameras, in chain order
    before: tuple[tuple[str, CameraSource], ...] = ()  # the earlier cameras' (task key, source)


@dataclass(frozen=True)
class Task:
    """One image of a job. ``key`` is unique in the job and names its output files."""

    key: str
    camera: str
    source: CameraSource  # where the camera's canvases are (paths the workers must see)
    frame: int | None = None
    variation: int | None = None
    depends_on: tuple[str, ...] = ()  # the keys of the tasks this one follows (chained work)
    existing_hash: str | None = None  # the plan hash of an image already in the output folder
    chain: ChainLink | None = None  # a multi-camera chain's step (chain.enabled)
    done_image: bytes | None = None  # a chained task's image already in the output folder


@dataclass
class TaskResult:
    """What a worker sends back for one task."""

    key: str
    status: str  # "done" | "skipped" | "failed"
    plan_hash: str = ""
    server: str = ""
    seconds: float = 0.0  # the successful request's time
    attempts: int = 0
    images: list[bytes] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    errors: list[str] = field(default_factory=list)  # each failed attempt: "server: problem"
    dropped: list[tuple[str, str]] = field(default_factory=list)  # servers this task dropped, why
    started: float = 0.0  # wall-clock time the successful request was sent
    finished: float = 0.0  # and answered
    extras: dict[str, bytes] = field(default_factory=dict)  # suffix -> file (".warp.png", ...)


def output_base(out: str, task: Task) -> str:
    """``OUT/<camera>`` (a still), ``OUT/<camera>.<frame:04d>`` (a frame), ``….v<k:02d>`` (a variation)."""
    name = task.camera
    if task.frame is not None:
        name += f".{task.frame:04d}"
    if task.variation is not None:
        name += f".v{task.variation:02d}"
    return os.path.join(out, name)


def build_tasks(
    sources: Sequence[CameraSource],
    params: PlanParams,
    *,
    frames_in_order: bool = False,
    chain: Sequence[str] | None = None,
) -> list[Task]:
    """One task per (camera, frame, variation), cameras in discovery order, frames ascending, in an
    order where every task comes after those it depends on.

    The frames and variations are the resolver's (``lib_scene.animation``): ``params.camera`` selects
    cameras (an unknown name: NotFoundError), ``params.frames`` a sequence's frames or a still
    camera's morph, ``params.travel`` a still camera's frames, ``params.variations`` the images per
    frame. With ``frames_in_order`` each frame depends on the camera's previous frame. ``chain``
    (the cameras in chain order, :func:`chain_camera_order`): per frame and variation, each camera
    depends on the cameras before it in that order (and carries its :class:`ChainLink`); a chain
    takes no travel or variations (:func:`refuse_chained_animation`)."""
    if chain:
        refuse_chained_animation(params)
    by_name = {src.camera: src for src in sources}
    variations = Variations.from_dict(params.variations).indices if params.variations else [None]
    tasks: list[Task] = []
    previous: dict[str, tuple[str, ...]] = {}  # camera -> its previous frame's key (frames_in_order)
    for name in select_cameras(list(by_name), params.camera):
        src = by_name[name]
        for frame in camera_frames(src.frame_numbers, params):
            for v in variations:
                key = os.path.basename(output_base("", Task("", src.camera, src, frame, v)))
                tasks.append(Task(key, src.camera, src, frame, v, previous.get(name, ())))
                if frames_in_order and v in (None, variations[0]):
                    previous[name] = (key,)
    return _chained(tasks, chain) if chain else tasks


def refuse_chained_animation(params: PlanParams) -> None:
    """A chain (``chain.enabled``) with ``travel`` or ``variations``: ParamsError naming them, on one
    webui and on several. A chained camera is an img2img inpaint of the cameras before it, made from
    a plain payload; travel and variations are made by the webui's Scene Import Script."""
    given = [name for name in ("travel", "variations") if getattr(params, name)]
    if params.chain.enabled and given:
        raise ParamsError(
            [
                f"a chained run (chain.enabled) takes no travel or variations, and {' and '.join(given)} "
                "were given: a chained camera is an inpaint of the cameras before it, while travel "
                "and variations are made by the webui's Scene Import Script; run them unchained"
            ]
        )


def _chained(tasks: list[Task], order: Sequence[str]) -> list[Task]:
    """The tasks grouped by (frame, variation), frames ascending, each group in chain ``order``; a
    camera depends on the cameras before it in its group (besides its own ``depends_on``)."""
    rank = {name: k for k, name in enumerate(order)}
    groups: dict[tuple[int, int], list[Task]] = {}
    for t in tasks:
        at = (-1 if t.frame is None else t.frame, -1 if t.variation is None else t.variation)
        groups.setdefault(at, []).append(t)
    out: list[Task] = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda t: rank[t.camera])
        names = tuple(t.camera for t in group)
        for k, t in enumerate(group):
            before = tuple((b.key, b.source) for b in group[:k])
            deps = tuple(dict.fromkeys([*t.depends_on, *(b for b, _ in before)]))
            out.append(replace(t, depends_on=deps, chain=ChainLink(k, names, before)))
    return out


def chain_camera_order(sources: Sequence[CameraSource], params: PlanParams, layer: str | None) -> list[str]:
    """The selected cameras in chain order (``chain.order`` or the nearest-pose order from the first),
    from each camera's first frame, as the resolver's chain orders them (over several webuis it runs
    on a worker: it reads every camera's pose and depth)."""
    by_name = {src.camera: src for src in sources}
    loaded: list[CanvasSet] = [
        load_camera(by_name[n], layer=layer, need={"depth"})
        for n in select_cameras(list(by_name), params.camera)
    ]
    return [loaded[i].camera for i in chain_order(loaded, params.chain.order)]


def plan_tasks(
    tasks: Sequence[Task], scene: Scene, params: PlanParams, facts: HostFacts
) -> dict[str, Planned]:
    """Every task's plan, by key, as :func:`plan_task` plans it (``params`` with the job's concrete
    seed): unchained tasks with one pass of the resolver (it plans the same cameras, frames and
    variations in the same order; a prompt travel's keyframes are checked once per camera)."""
    if any(t.chain is not None for t in tasks):
        return {t.key: plan_task(t, scene, params, facts) for t in tasks}
    planned = resolve_planned(scene, params, facts)
    keys = [out_stem(p.plan) for p in planned]
    if keys != [t.key for t in tasks]:  # (the task list and the resolver walk one list)
        raise PlanError(f"the job's images ({len(tasks)}) are not the resolver's ({len(planned)})")
    return dict(zip(keys, planned, strict=True))


def resume_tasks(out: str, tasks: Sequence[Task]) -> list[Task]:
    """``tasks`` with the plan hash of each image already in ``out`` (``existing_hash``); a chained
    camera's image that later cameras warp from is read from ``out`` to go with its task
    (``done_image``)."""
    have = existing_hashes(out, tasks)
    warped_from = {k for t in tasks if t.chain for k, _ in t.chain.before}
    done: list[Task] = []
    for t in tasks:
        image = None
        if t.key in have and t.key in warped_from:
            try:
                with open(output_base(out, t) + ".png", "rb") as fh:
                    image = fh.read()
            except OSError:
                image = None
        done.append(replace(t, existing_hash=have.get(t.key), done_image=image))
    return done


def task_files(task: Task) -> list[str]:
    """The files a task reads (outputs must never replace them)."""
    src = task.source
    if task.frame is None or not src.frames:
        return list(src.files.values())
    path = dict(src.frames)[task.frame]
    side = frame_sidecar(path, src.camera)
    return [path] + ([side] if side else [])


def animations(out: str, tasks: Sequence[Task], fps: float) -> dict[str, bytes]:
    """Each animated camera's (and variation's) WebP/GIF (and MP4 with imageio-ffmpeg) from its
    frames' images in ``out``, in frame order, as the plain ``run`` writes them; a camera with a
    frame missing (failed) gets none."""
    groups: dict[str, list[Task]] = {}
    for t in tasks:
        if t.frame is not None:
            name = t.camera + ("" if t.variation is None else f".v{t.variation:02d}")
            groups.setdefault(name, []).append(t)
    files: dict[str, bytes] = {}
    for name, frames in groups.items():
        paths = [output_base(out, t) + ".png" for t in sorted(frames, key=lambda t: t.frame or 0)]
        if len(paths) < 2 or not all(os.path.isfile(p) for p in paths):
            continue
        blobs = []
        for p in paths:
            with open(p, "rb") as fh:
                blobs.append(fh.read())
        ext, data = animated(blobs, fps)
        files[os.path.join(out, f"{name}.{ext}")] = data
        video = mp4(blobs, fps)
        if video is not None:
            files[os.path.join(out, f"{name}.mp4")] = video
    return files


def plan_hash(payload: dict[str, Any]) -> str:
    """The SHA-256 of the request body, canonical JSON: the same plan gives the same hash. The
    companion Script's infotext entry (``lib_scene.wire.without_infotext``) is left out: it records
    the plan (and the Scene Import version) but does not change the image."""
    body = without_infotext(payload)
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def plan_task(task: Task, scene: Scene, params: PlanParams, facts: HostFacts) -> Planned:
    """Plan one task's image (EXR decode, quantisation, masks) with the one resolver, narrowed to the
    task's camera, frame and variation. ``params`` must carry a concrete seed (the job's); the task's
    canvases are read where they are (``scene.paths``: the job's scene paths). A chained task's
    plan is its frame's, with its place in the chain (``plan.chain``: step and order)."""
    narrow: dict[str, object] = {"camera": task.camera}
    if task.frame is not None:
        narrow["frames"] = f"{task.frame}-{task.frame}"
    if task.variation is not None and params.variations:
        narrow["variations"] = {**params.variations, "index": task.variation}
    if task.chain is None:
        (planned,) = resolve_planned(scene, params.replace(**narrow), facts)
        return planned
    # the resolver chains the cameras it loads (one view each); a task is one camera at one frame
    cs = load_camera(task.source, layer=scene.layer, frame=task.frame if task.source.frames else None)
    (planned,) = resolve_planned(replace(scene, cameras=(cs,)), params.replace(**narrow), facts)
    chain = {"step": task.chain.step, "order": list(task.chain.order)}
    return replace(planned, plan=replace(planned.plan, chain=chain))


def existing_hashes(out: str, tasks: Iterable[Task]) -> dict[str, str]:
    """Each task whose image is already in ``out``: its key -> the plan hash it was made with."""
    found: dict[str, str] = {}
    for t in tasks:
        h = existing_hash(output_base(out, t))
        if h is not None:
            found[t.key] = h
    return found


def result_meta(task: Task, result: TaskResult) -> dict[str, object]:
    """Our part of ``<base>.info.json`` (``scene_import``): plan hash, camera, frame, variation,
    seed, webui, attempts, request times and a chained camera's step."""
    meta: dict[str, object] = {
        "plan_hash": result.plan_hash,
        "camera": task.camera,
        "frame": task.frame,
        "variation": task.variation,
        "seed": result.seed,
        "server": result.server,
        "attempts": result.attempts,
        "requested_at": result.started,
        "answered_at": result.finished,
    }
    if task.chain is not None:
        meta["chain"] = {
            "step": task.chain.step + 1,
            "of": len(task.chain.order),
            "before": list(task.chain.order[: task.chain.step]),
        }
    return meta


def write_result(out: str, task: Task, result: TaskResult, protect: list[str]) -> list[str]:
    """Write one generated image (:func:`write_image` at :func:`output_base`, with
    :func:`result_meta`) and a chained camera's extras (``<base>.warp.png``, ``<base>.warp.mask.png``,
    with a blend pass ``<base>.inpaint.png``); all or nothing."""
    base = output_base(out, task)
    extras = {base + suffix: blob for suffix, blob in result.extras.items()}
    return write_image(base, result.images, result.info, result_meta(task, result), protect, extras)


def decode_images(answer: dict[str, Any]) -> list[bytes]:
    """The webui answer's base64 images as bytes."""
    return [base64.b64decode(str(b).split(",", 1)[-1]) for b in answer.get("images") or []]


def parse_info(info: object) -> dict[str, Any]:
    """The webui's ``info`` (a JSON string) as a dict."""
    try:
        obj = json.loads(info) if isinstance(info, str) else info
    except json.JSONDecodeError:
        obj = {"info": info}
    return obj if isinstance(obj, dict) else {"info": obj}


# --------------------------------------------------------------------------- resume, shared by both paths


def existing_hash(base: str) -> str | None:
    """The plan hash of the image at ``<base>.png``, from ``<base>.info.json`` (None: no whole image
    there, or one made without a hash)."""
    try:
        with open(base + ".info.json", encoding="utf-8") as fh:
            meta = json.load(fh).get("scene_import", {})
    except (OSError, ValueError, AttributeError):
        return None
    h = meta.get("plan_hash") if isinstance(meta, dict) else None
    return h if isinstance(h, str) and os.path.isfile(base + ".png") else None


def write_image(
    base: str,
    images: Sequence[bytes],
    info: dict[str, Any],
    meta: dict[str, Any],
    protect: list[str],
    extras: dict[str, bytes] | None = None,
) -> list[str]:
    """Write ``<base>.png`` (extra images ``<base>-<k>.png``), ``extras`` (path -> data),
    ``<base>.infotext.txt`` and ``<base>.info.json`` (the webui's ``info`` plus ``{"scene_import":
    meta}``, ``meta`` holding at least ``plan_hash``); all or nothing, the info file renamed last so
    that it only ever names a whole image."""
    batch = OutputBatch(protect=protect)
    for k, data in enumerate(images):
        batch.add(f"{base}.png" if k == 0 else f"{base}-{k}.png", data)
    for path, blob in (extras or {}).items():
        batch.add(path, blob)
    texts = info.get("infotexts")
    if isinstance(texts, list) and texts:
        batch.add(base + ".infotext.txt", str(texts[0]) + "\n")
    batch.add(base + ".info.json", json.dumps({**info, "scene_import": meta}, indent=1) + "\n")
    return batch.commit()


def job_key(data: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """What identifies a job for its kept seed: the params as given (but the seed) and the scene paths."""
    return {
        "params": {k: v for k, v in data.items() if k != "seed"},
        "paths": [os.path.abspath(p) for p in paths],
    }


def kept_seed(out: str, key: dict[str, Any]) -> int | None:
    """The seed kept in ``OUT/JOB_FILE`` for the job ``key`` (None: no such job there)."""
    try:
        with open(os.path.join(out, JOB_FILE), encoding="utf-8") as fh:
            kept = json.load(fh)
    except (OSError, ValueError):
        return None
    if isinstance(kept, dict) and kept.get("job") == key and isinstance(kept.get("seed"), int):
        return int(kept["seed"])
    return None


def keep_seed(out: str, key: dict[str, Any], seed: int) -> None:
    """Keep the job's concrete seed in ``OUT/JOB_FILE`` (atomically; makes ``out``); a file that
    already says so is left alone (a rerun writes nothing)."""
    if kept_seed(out, key) == seed:
        return
    atomic_write_text(os.path.join(out, JOB_FILE), json.dumps({"job": key, "seed": seed}, indent=1) + "\n")


def job_seed(out: str, key: dict[str, Any], seed: int) -> int:
    """The job's concrete seed: ``seed``, or for -1 the one kept for the same job in ``OUT/JOB_FILE``,
    or a new one (kept there at once, so an interrupted job resumes with it)."""
    if seed == -1:
        kept = kept_seed(out, key)
        if kept is not None:
            say(f"resuming the job in {out} with its seed {kept}")
        seed = draw_seed() if kept is None else kept
    keep_seed(out, key, seed)
    return seed
