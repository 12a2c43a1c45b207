"""What one Dask worker does for one image: plan it next to the data, then generate it on a webui
held from the pool (``lib_scene.cluster_pool``: leases the scheduler takes back from a dead worker),
with bounded retries on other webuis.

A failure (HTTP 5xx, no answer, no connection, an answer without images) counts against the webui
and the task tries again on another one after a backoff (doubling, at most 8x); a 4xx answer is the
request's own fault: the task fails at once. A task never raises: a failure is a ``failed`` result
whose ``errors`` say why, and the tasks that depend on it fail with it.

**A chained camera** (``task.chain``, step k > 0) completes its plan with
:func:`lib_scene.chain.chain_step`, the function the single-server chain uses: the images of the
cameras before it (the results of the tasks it depends on; for one already done, the image read
from ``--out`` and shipped with that task) warped into it, the holes filled from its beauty, and
posts that img2img inpaint; ``chain.blend`` > 0 adds the light whole-image pass
(:func:`lib_scene.chain.blend_plan`). It sends back the warp and the mask, written as
``<base>.warp.png`` and ``<base>.warp.mask.png`` (and the inpaint before a blend pass as
``<base>.inpaint.png``), like the single-server chained run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from .canvas import CanvasSet, load_camera
from .chain import ChainScene, ChainStep, blend_plan, chain_step
from .cli_animate import needs_script, script_body
from .cluster_pool import NoServerLeft, PoolSpec, ServerPool
from .consistency import read_rgb_bytes
from .errors import InputError, SceneImportError
from .files import png_bytes
from .jobs import Task, TaskResult, decode_images, parse_info, plan_hash, plan_task
from .params import PlanParams
from .request import HostFacts, Planned, Scene
from .webui_client import WebuiError, request_json
from .wire import endpoint, to_payload

__all__ = ["JobContext", "run_task"]


@dataclass(frozen=True)
class JobContext:
    """Everything a worker needs besides the task (shipped once per task; small)."""

    folder: str  # the scene folder (params' relative paths start here)
    paths: tuple[str, ...]  # the scene's files and folders, as the workers see them
    params: PlanParams  # with the job's concrete seed
    facts: HostFacts
    pool: PoolSpec  # the webuis and the names of their leases
    layer: str | None = None
    timeout: float = 900.0  # seconds per request
    retries: int = 3  # further attempts after the first, each on another webui when there is one
    backoff: float = 0.5  # seconds before the first retry, doubled each time (at most 8x)
    drop_after: int = 3  # consecutive failures that drop a webui
    data: dict[str, Any] = field(default_factory=dict)  # the params as given (the Script's task)


def _generate(url: str, path: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    answer = request_json(url.rstrip("/") + path, payload, timeout=timeout)
    if not isinstance(answer, dict) or not isinstance(answer.get("images"), list) or not answer["images"]:
        raise WebuiError("the webui answered without images", url)
    return cast(dict[str, Any], answer)


def _post(ctx: JobContext, path: str, payload: dict[str, Any], r: TaskResult) -> dict[str, Any] | None:
    """POST ``payload`` to ``path`` on the pool's webuis: the answer, or None with ``r.errors`` saying
    why. Records the successful request's webui and times in ``r``."""
    pool = ServerPool.of(ctx.pool)
    tried: set[str] = set()
    for attempt in range(ctx.retries + 1):
        lease = pool.acquire(tried)
        r.attempts += 1
        started, t0 = time.time(), time.monotonic()
        answer: dict[str, Any] | None = None
        outcome, problem = "keep", ""  # "keep" also when something unforeseen raises
        try:
            answer = _generate(lease.url, path, payload, ctx.timeout)
            outcome = "ok"
        except WebuiError as exc:
            problem = exc.problem
            outcome = "keep" if exc.status is not None and 400 <= exc.status < 500 else "fail"
        finally:
            dropped = pool.release(lease, outcome, problem, ctx.drop_after)
        if dropped:
            r.dropped.append((lease.url, dropped))
        if answer is not None:
            r.server, r.seconds = lease.url, time.monotonic() - t0
            r.started, r.finished = started, time.time()
            return answer
        r.errors.append(f"{lease.url}: {problem}")
        if outcome == "keep":  # a 4xx: the request's own fault, not the webui's
            return None
        tried.add(lease.url)
        if attempt < ctx.retries:
            time.sleep(ctx.backoff * 2 ** min(attempt, 3))
    r.errors.append(f"gave up after {ctx.retries + 1} attempts")
    return None


def _done(r: TaskResult, answer: dict[str, Any]) -> TaskResult:
    r.status, r.images, r.info = "done", decode_images(answer), parse_info(answer.get("info"))
    return r


def _skipped(task: Task, r: TaskResult) -> TaskResult:
    """Already in ``--out`` with this plan; a chained camera's image goes on to the cameras after it."""
    return replace(r, status="skipped", images=[task.done_image] if task.done_image else [])


def _chain_step(task: Task, ctx: JobContext, planned: Planned, previous: Sequence[TaskResult]) -> ChainStep:
    """Camera ``task``'s plan completed from the images of the cameras before it in its chain."""
    assert task.chain is not None
    by_key = {p.key: p for p in previous}
    cameras: list[CanvasSet] = [planned.canvases]
    done = []
    for key, src in task.chain.before:
        got = by_key.get(key)
        if got is None or not got.images:
            raise InputError(f"the image of {key}, before {task.key} in the chain, did not reach it")
        frame = task.frame if src.frames else None
        cameras.append(load_camera(src, layer=ctx.layer, need={"depth", "normal"}, frame=frame))
        done.append((src.camera, read_rgb_bytes(got.images[0], f"{key}: the webui's image")))
    scene = ChainScene.of(cameras, str(planned.plan.params.get("tonemap", "standard")))
    return chain_step(planned.plan, scene, done)


def _run_chained(
    task: Task, ctx: JobContext, planned: Planned, previous: Sequence[TaskResult], r: TaskResult
) -> TaskResult:
    """A chained camera after the first: the inpaint (and the blend pass), with its warp and mask."""
    step = _chain_step(task, ctx, planned, previous)
    facts = ctx.facts
    payload = to_payload(step.plan, facts.dialect, facts.unit_count, infotext=facts.infotext_script)
    r.plan_hash, r.seed = plan_hash(payload), step.plan.seed
    if task.existing_hash == r.plan_hash:
        return _skipped(task, r)
    answer = _post(ctx, endpoint(step.plan), payload, r)
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
    r.status = "failed"
    body = to_payload(second, facts.dialect, facts.unit_count, infotext=facts.infotext_script)
    answer = _post(ctx, endpoint(second), body, r)
    return r if answer is None else _done(r, answer)


def run_task(task: Task, ctx: JobContext, *previous: TaskResult) -> TaskResult:
    """Plan and generate one image on a worker; ``previous``: the results of the tasks it depends on.
    Never raises (see the module doc)."""
    r = TaskResult(task.key, "failed")
    failed = [p.key for p in previous if p.status == "failed"]
    if failed:
        r.errors.append(f"depends on {', '.join(failed)}, which failed")
        return r
    try:
        planned = plan_task(task, Scene(ctx.folder, paths=ctx.paths, layer=ctx.layer), ctx.params, ctx.facts)
    except SceneImportError as exc:
        r.errors.append(f"planning: {exc}")
        return r
    try:
        if task.chain is not None and task.chain.step > 0:
            return _run_chained(task, ctx, planned, previous, r)
        plan = planned.plan
        payload = (  # travel and variations: the webui's Scene Import Script moves the conditioning
            script_body(plan, planned.canvases, ctx.data)
            if needs_script([plan])
            else to_payload(plan, ctx.facts.dialect, ctx.facts.unit_count, infotext=ctx.facts.infotext_script)
        )
        r.plan_hash, r.seed = plan_hash(payload), plan.seed
        if task.existing_hash == r.plan_hash:
            return _skipped(task, r)
        answer = _post(ctx, endpoint(plan), payload, r)
        return r if answer is None else _done(r, answer)
    except SceneImportError as exc:  # NoServerLeft, a chain's warp, an unreadable image
        r.status = "failed"
        r.errors.append(exc.problem if isinstance(exc, NoServerLeft) else str(exc))
    return r
