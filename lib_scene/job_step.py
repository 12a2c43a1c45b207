"""What one planned task of a job does, the same in the one-webui ``run`` loop (``lib_scene.run_job``)
and on a Dask worker (``lib_scene.cluster_task``): its request body, a chained camera's inpaint
(and blend pass), the skip of an image already in ``--out`` with the same plan, and the result to
write (:func:`lib_scene.jobs.write_result`). Only the way a body reaches a webui differs: ``post``
(one webui, stopping at the first failure; or the Dask pool, with retries on other webuis).

* **A plain task**: the plan's body (:func:`task_body`: through the webui's Scene Import Script for
  travel and variations), posted once.
* **A chained camera** (``task.chain``, step k > 0): :func:`chain_step_for` completes its plan with
  :func:`lib_scene.chain.chain_step` from the images of the cameras before it in its frame's chain
  (warped in, holes from its beauty, the mask), posts that img2img inpaint and, with
  ``chain.blend`` > 0, the light whole-image pass (:func:`lib_scene.chain.blend_plan`). Its result
  carries the warp and mask (``.warp.png``, ``.warp.mask.png``; with a blend pass the inpaint as
  ``.inpaint.png`` and its infotext), and its plan hash is the inpaint's body's.
* **Resume**: a task whose image is there with the same plan hash (``task.existing_hash``) is
  ``skipped``; it carries its image (``task.done_image``) on to the cameras chained after it.

Imports no Dask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .canvas import CanvasSet, load_camera
from .chain import ChainScene, ChainStep, blend_plan, chain_step
from .cli_animate import needs_script, script_body
from .consistency import read_rgb_bytes
from .errors import InputError
from .files import png_bytes
from .imaging import to_rgb8, tonemap_srgb
from .jobs import Task, TaskResult, decode_images, parse_info, plan_hash
from .plan import GenerationPlan
from .reproject import View
from .request import HostFacts, Planned
from .wire import to_payload

__all__ = ["Post", "chain_step_for", "generate", "task_body"]

#: Sends one plan's body to a webui: the answer (with images), or None with ``r.errors`` saying why
#: (or it raises a SceneImportError). It records the webui, its times and attempts in ``r``.
Post = Callable[[GenerationPlan, dict[str, Any], TaskResult], "dict[str, Any] | None"]


def task_body(
    plan: GenerationPlan, canvases: CanvasSet, facts: HostFacts, data: dict[str, Any]
) -> dict[str, Any]:
    """The request body of an unchained plan: travel and variations go through the webui's Scene
    Import Script (it moves the conditioning), everything else is the plain payload."""
    if needs_script([plan]):
        return script_body(plan, canvases, data)
    return to_payload(plan, facts.dialect, facts.unit_count, infotext=facts.infotext_script)


def chain_step_for(
    task: Task,
    planned: Planned,
    images: Mapping[str, bytes],
    layer: str | None,
    canvases: Mapping[str, CanvasSet] | None = None,
) -> ChainStep:
    """Camera ``task``'s plan completed from the images of the cameras before it in its chain
    (``images``: task key -> image). Their canvases are ``canvases[key]`` when given, else read (depth
    and normal of the task's frame)."""
    assert task.chain is not None
    views = {planned.canvases.camera: View.of(planned.canvases)}
    done = []
    for key, src in task.chain.before:
        image = images.get(key)
        if image is None:
            raise InputError(f"the image of {key}, before {task.key} in the chain, did not reach it")
        cs = (canvases or {}).get(key)
        if cs is None:
            frame = task.frame if src.frames else None
            cs = load_camera(src, layer=layer, need={"depth", "normal"}, frame=frame)
        views[src.camera] = View.of(cs)
        done.append((src.camera, read_rgb_bytes(image, f"{key}: the webui's image")))
    cs = planned.canvases
    tonemap = str(planned.plan.params.get("tonemap", "standard"))
    beauty = None if cs.beauty is None else to_rgb8(tonemap_srgb(cs.beauty, tonemap))
    return chain_step(planned.plan, ChainScene(views, {cs.camera: beauty}), done)


def _done(r: TaskResult, answer: dict[str, Any]) -> TaskResult:
    r.status, r.images, r.info = "done", decode_images(answer), parse_info(answer.get("info"))
    return r


def _skipped(task: Task, r: TaskResult) -> TaskResult:
    """Already in ``--out`` with this plan; a chained camera's image goes on to the cameras after it."""
    return replace(r, status="skipped", images=[task.done_image] if task.done_image else [])


def _chained(task: Task, step: ChainStep, facts: HostFacts, post: Post, r: TaskResult) -> TaskResult:
    """A chained camera after the first: the inpaint (and the blend pass), with its warp and mask."""
    payload = to_payload(step.plan, facts.dialect, facts.unit_count, infotext=facts.infotext_script)
    r.plan_hash, r.seed = plan_hash(payload), step.plan.seed
    if task.existing_hash == r.plan_hash:
        return _skipped(task, r)
    answer = post(step.plan, payload, r)
    if answer is None:
        return r
    _done(r, answer)
    assert step.warp is not None and step.mask is not None
    r.extras = {".warp.png": png_bytes(step.warp), ".warp.mask.png": png_bytes(step.mask)}
    second = blend_plan(step.plan, read_rgb_bytes(r.images[0], f"{task.key}: the webui's image"))
    if second is None:
        return r
    r.extras[".inpaint.png"] = r.images[0]
    texts = r.info.get("infotexts")
    if isinstance(texts, list) and texts:
        r.extras[".inpaint.infotext.txt"] = (str(texts[0]) + "\n").encode()
    r.status = "failed"  # until the blend pass is done
    body = to_payload(second, facts.dialect, facts.unit_count, infotext=facts.infotext_script)
    answer = post(second, body, r)
    return r if answer is None else _done(r, answer)


def generate(
    task: Task,
    planned: Planned,
    images: Mapping[str, bytes],
    facts: HostFacts,
    data: dict[str, Any],
    post: Post,
    *,
    layer: str | None = None,
    canvases: Mapping[str, CanvasSet] | None = None,
    into: TaskResult | None = None,
) -> TaskResult:
    """Generate (or skip) one planned task: ``done`` with its images, ``skipped``, or ``failed``
    with ``errors`` (what ``post`` said). ``images`` (and ``canvases``): the chained cameras before
    it, by task key; ``data``: the params as given (the Script's task for travel and variations).
    A SceneImportError from planning the chain step or from ``post`` is raised (``into``: the
    result to fill, which then holds the failed attempts so far)."""
    r = into if into is not None else TaskResult(task.key, "failed")
    if task.chain is not None and task.chain.step > 0:
        return _chained(task, chain_step_for(task, planned, images, layer, canvases), facts, post, r)
    plan = planned.plan
    payload = task_body(plan, planned.canvases, facts, data)
    r.plan_hash, r.seed = plan_hash(payload), plan.seed
    if task.existing_hash == r.plan_hash:
        return _skipped(task, r)
    answer = post(plan, payload, r)
    return r if answer is None else _done(r, answer)
