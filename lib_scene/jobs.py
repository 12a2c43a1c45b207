"""A generation job as a list of tasks, each one image: (camera, frame, variation), pure and serialisable.

The CLI ``run`` over several webuis (``lib_scene.cluster``) ships one :class:`Task` per image to a
Dask worker; the worker plans it next to the data (:func:`plan_task`), and the machine that runs
``run`` writes what comes back (:func:`write_result`), atomically, exactly once per task.

* **Frames**: a frame-sequence camera (``lib_scene.frames``: ``Cam0_0001.exr``, ``Cam0.0001.exr``,
  ``####``) has one task per selected frame (``--frames A-B``), in frame order; a still camera has one
  task, frame None.
* **Dependencies**: a task may name the tasks it depends on (``depends_on``, e.g. the frame it warps
  from when frames are chained, or every camera before it in a multi-camera chain); it runs after
  them and receives their results.
* **Resume**: every written image has ``<base>.info.json`` with the task's plan hash (the SHA-256 of
  the exact request body: prompt, seed, maps, settings). A rerun with the same plan skips a task
  whose image exists with the same hash (:func:`existing_hashes`); a changed plan regenerates it.
  A random seed (``-1``) is drawn once per job and kept in ``OUT/scene-import-job.json``
  (:func:`job_seed`). The single-server ``run`` loop (``lib_scene.cli_plan``) uses the same rule and
  files (:func:`job_key`, :func:`kept_seed`, :func:`keep_seed`, :func:`existing_hash`,
  :func:`write_image`); nothing here imports Dask.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .animation import camera_frames
from .canvas import CameraSource
from .cli_base import say
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
    "Task",
    "TaskResult",
    "build_tasks",
    "existing_hash",
    "existing_hashes",
    "job_key",
    "job_seed",
    "keep_seed",
    "kept_seed",
    "output_base",
    "plan_hash",
    "plan_task",
    "task_files",
    "write_image",
    "write_result",
]

#: The file in the output folder that keeps a job's drawn seed, so that a rerun resumes it.
JOB_FILE = "scene-import-job.json"


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


def output_base(out: str, task: Task) -> str:
    """``OUT/<camera>`` (a still), ``OUT/<camera>.<frame:04d>`` (a frame), ``….v<k:02d>`` (a variation)."""
    name = task.camera
    if task.frame is not None:
        name += f".{task.frame:04d}"
    if task.variation is not None:
        name += f".v{task.variation:02d}"
    return os.path.join(out, name)


def build_tasks(sources: Sequence[CameraSource], params: PlanParams, *, chain: bool = False) -> list[Task]:
    """One task per (camera, frame, variation), cameras in discovery order, frames ascending.

    The frames and variations are the resolver's (``lib_scene.animation``): ``params.camera`` selects
    cameras (an unknown name: NotFoundError), ``params.frames`` a sequence's frames or a still
    camera's morph, ``params.travel`` a still camera's frames, ``params.variations`` the images per
    frame. With ``chain`` each frame depends on the camera's previous frame (they run in order)."""
    by_name = {src.camera: src for src in sources}
    variations = Variations.from_dict(params.variations).indices if params.variations else [None]
    tasks: list[Task] = []
    for name in select_cameras(list(by_name), params.camera):
        src = by_name[name]
        previous: tuple[str, ...] = ()
        for frame in camera_frames(src.frame_numbers, params):
            for v in variations:
                key = os.path.basename(output_base("", Task("", src.camera, src, frame, v)))
                tasks.append(Task(key, src.camera, src, frame, v, previous if chain else ()))
                if chain and v in (None, variations[0]):
                    previous = (key,)
    return tasks


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
    canvases are read where they are (``scene.paths``: the job's scene paths)."""
    narrow: dict[str, object] = {"camera": task.camera}
    if task.frame is not None:
        narrow["frames"] = f"{task.frame}-{task.frame}"
    if task.variation is not None and params.variations:
        narrow["variations"] = {**params.variations, "index": task.variation}
    (planned,) = resolve_planned(scene, params.replace(**narrow), facts)
    return planned


def existing_hashes(out: str, tasks: Iterable[Task]) -> dict[str, str]:
    """Each task whose image is already in ``out``: its key -> the plan hash it was made with."""
    found: dict[str, str] = {}
    for t in tasks:
        h = existing_hash(output_base(out, t))
        if h is not None:
            found[t.key] = h
    return found


def write_result(out: str, task: Task, result: TaskResult, protect: list[str]) -> list[str]:
    """Write one generated image (``<base>.png``, extra images ``<base>-<k>.png``), its infotext and
    ``<base>.info.json`` (the webui's info plus ours: plan hash, camera, frame, variation, seed,
    server); all or nothing, the info file renamed last so that it only ever names a whole image."""
    base = output_base(out, task)
    batch = OutputBatch(protect=protect)
    for k, data in enumerate(result.images):
        batch.add(f"{base}.png" if k == 0 else f"{base}-{k}.png", data)
    texts = result.info.get("infotexts")
    if isinstance(texts, list) and texts:
        batch.add(base + ".infotext.txt", str(texts[0]) + "\n")
    meta = {
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
    batch.add(base + ".info.json", json.dumps({**result.info, "scene_import": meta}, indent=1) + "\n")
    return batch.commit()


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
    base: str, images: Sequence[bytes], info: dict[str, Any], meta: dict[str, Any], protect: list[str]
) -> list[str]:
    """Write one generated image as :func:`write_result` does: ``<base>.png`` (extra images
    ``<base>-<k>.png``), ``<base>.infotext.txt`` and ``<base>.info.json`` (the webui's ``info`` plus
    ``{"scene_import": meta}``, ``meta`` holding at least ``plan_hash``); all or nothing."""
    batch = OutputBatch(protect=protect)
    for k, data in enumerate(images):
        batch.add(f"{base}.png" if k == 0 else f"{base}-{k}.png", data)
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
