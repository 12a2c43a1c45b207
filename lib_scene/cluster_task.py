"""What one Dask worker does for one image: plan it next to the data, then generate it on a webui
held from the pool (``lib_scene.cluster_pool``: leases the scheduler takes back from a dead worker),
with bounded retries on other webuis.

A failure (HTTP 5xx, no answer, no connection, an answer without images) counts against the webui
and the task tries again on another one after a backoff (doubling, at most 8x); a 4xx answer is the
request's own fault: the task fails at once. A task never raises: a failure is a ``failed`` result
whose ``errors`` say why, and the tasks that depend on it fail with it.

What a planned task does (its body, a chained camera's inpaint and blend pass, the skip of an image
already in ``--out``) is ``lib_scene.job_step.generate``, the one-webui loop's too; here it posts
through the pool. **A chained camera** gets the images of the cameras before it as the results of
the tasks it depends on (for one already done, the image read from ``--out`` and shipped with that
task), and reads their depth and normal for its frame itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .cluster_pool import NoServerLeft, PoolSpec, ServerPool
from .errors import SceneImportError
from .job_step import generate
from .jobs import Task, TaskResult, plan_task
from .params import PlanParams
from .plan import GenerationPlan
from .request import HostFacts, Scene
from .webui_client import WebuiError, post_for_images
from .wire import endpoint

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


def _post(
    ctx: JobContext, plan: GenerationPlan, payload: dict[str, Any], r: TaskResult
) -> dict[str, Any] | None:
    """POST ``payload`` to ``plan``'s endpoint on the pool's webuis: the answer, or None with
    ``r.errors`` saying why. Records the successful request's webui and times in ``r``."""
    path = endpoint(plan)
    pool = ServerPool.of(ctx.pool)
    tried: set[str] = set()
    for attempt in range(ctx.retries + 1):
        lease = pool.acquire(tried)
        r.attempts += 1
        started, t0 = time.time(), time.monotonic()
        answer: dict[str, Any] | None = None
        outcome, problem = "keep", ""  # "keep" also when something unforeseen raises
        try:
            answer = post_for_images(lease.url, path, payload, ctx.timeout)
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


def run_task(task: Task, ctx: JobContext, *previous: TaskResult) -> TaskResult:
    """Plan and generate one image on a worker (``lib_scene.job_step.generate``); ``previous``: the
    results of the tasks it depends on. Never raises (see the module doc)."""
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
    images = {p.key: p.images[0] for p in previous if p.images}
    try:
        post = partial(_post, ctx)
        return generate(task, planned, images, ctx.facts, ctx.data, post, layer=ctx.layer, into=r)
    except SceneImportError as exc:  # NoServerLeft, a chain's warp, an unreadable image
        r.status = "failed"
        r.errors.append(exc.problem if isinstance(exc, NoServerLeft) else str(exc))
    return r
