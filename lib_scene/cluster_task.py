"""What one Dask worker does for one image: plan it next to the data, then generate it on a webui
taken from the server pool, with bounded retries on other servers.

**The pool** is a Dask ``Queue`` of tokens ``[url, consecutive failures]``, one per webui. A task
*takes* a token for the length of its one HTTP request and puts it back after, so no webui ever
has two requests at once, and a fast webui, back sooner, is taken more often. A failure (HTTP 5xx,
no answer, no connection, an answer without images) puts the token back with its count raised and
the task tries again on another server after a backoff; a webui that fails ``drop_after`` times in a
row is not put back: it goes to the pool's *dropped* queue with the reason, for the rest of the run.
A 4xx answer is the request's own fault: the task fails at once, the server keeps its count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, cast

from .cli_animate import needs_script, script_body
from .errors import SceneImportError
from .jobs import Task, TaskResult, decode_images, parse_info, plan_hash, plan_task
from .params import PlanParams
from .request import HostFacts, Scene
from .webui_client import WebuiError, request_json
from .wire import endpoint, to_payload

__all__ = ["JobContext", "NoServerLeft", "ServerPool", "run_task"]


class NoServerLeft(SceneImportError):
    """Every webui of the pool was dropped."""


@dataclass(frozen=True)
class JobContext:
    """Everything a worker needs besides the task (shipped once per task; small)."""

    folder: str  # the scene folder (params' relative paths start here)
    paths: tuple[str, ...]  # the scene's files and folders, as the workers see them
    params: PlanParams  # with the job's concrete seed
    facts: HostFacts
    pool: str  # the name of the Dask Queue of server tokens
    servers: int  # how many servers the pool started with
    layer: str | None = None
    timeout: float = 900.0  # seconds per request
    retries: int = 3  # further attempts after the first, each on another server when there is one
    backoff: float = 0.5  # seconds before the first retry, doubled each time (at most 8x)
    drop_after: int = 3  # consecutive failures that drop a server
    data: dict[str, Any] = field(default_factory=dict)  # the params as given (the Script's task)


class ServerPool:
    """The Dask side of the pool (see the module doc); built on a worker from the queue names."""

    def __init__(self, name: str, size: int) -> None:
        from distributed import Queue

        self.size = size
        self.queue = Queue(name)
        self.dropped = Queue(name + "-dropped")

    def acquire(self, avoid: set[str]) -> tuple[str, int]:
        """Take a server, preferring one not in ``avoid`` (those this task already failed on).

        Blocks until one is free (no timeout: a timed-out ``Queue.get`` is logged as an error by
        the scheduler). When the last server is dropped, the dropping task puts a "none left"
        token in the queue; whoever takes it puts it back for the others and gives up."""
        passed = 0
        while True:
            url, fails = self.queue.get()
            if not url:
                self.queue.put(["", -1])
                raise NoServerLeft("every webui was dropped after repeated failures")
            if url in avoid and passed < self.size:
                self.queue.put([url, fails])
                passed += 1
                time.sleep(0.05)
                continue
            return str(url), int(fails)

    def release(self, url: str, fails: int) -> None:
        self.queue.put([url, fails])

    def drop(self, url: str, reason: str) -> None:
        self.dropped.put([url, reason])
        if self.dropped.qsize() >= self.size:
            self.queue.put(["", -1])


def _generate(url: str, path: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    answer = request_json(url.rstrip("/") + path, payload, timeout=timeout)
    if not isinstance(answer, dict) or not isinstance(answer.get("images"), list) or not answer["images"]:
        raise WebuiError("the webui answered without images", url)
    return cast(dict[str, Any], answer)


def _attempts(ctx: JobContext, pool: ServerPool, path: str, payload: dict[str, Any], r: TaskResult) -> None:
    """POST ``payload`` to ``path`` on the pool's servers, filling ``r`` (done or failed)."""
    tried: set[str] = set()
    for attempt in range(ctx.retries + 1):
        url, fails = pool.acquire(tried)
        r.attempts = attempt + 1
        started, t0 = time.time(), time.monotonic()
        try:
            answer = _generate(url, path, payload, ctx.timeout)
        except WebuiError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                pool.release(url, fails)
                r.status, r.errors = "failed", [*r.errors, f"{url}: {exc.problem}"]
                return
            r.errors.append(f"{url}: {exc.problem}")
            tried.add(url)
            if fails + 1 >= ctx.drop_after:
                reason = f"{fails + 1} failures in a row, the last: {exc.problem}"
                pool.drop(url, reason)
                r.dropped.append((url, reason))
            else:
                pool.release(url, fails + 1)
            if attempt < ctx.retries:
                time.sleep(ctx.backoff * 2 ** min(attempt, 3))
            continue
        pool.release(url, 0)
        r.status, r.server, r.seconds = "done", url, time.monotonic() - t0
        r.started, r.finished = started, time.time()
        r.images, r.info = decode_images(answer), parse_info(answer.get("info"))
        return
    r.status = "failed"
    r.errors.append(f"gave up after {ctx.retries + 1} attempts")


def run_task(task: Task, ctx: JobContext, *previous: TaskResult) -> TaskResult:
    """Plan and generate one image on a worker; ``previous``: the results of the tasks it depends on.
    Never raises: a failure is a ``failed`` result whose ``errors`` say why (so tasks depending on it
    learn it and fail with it)."""
    r = TaskResult(task.key, "failed")
    failed = [p.key for p in previous if p.status == "failed"]
    if failed:
        r.errors.append(f"depends on {', '.join(failed)}, which failed")
        return r
    try:
        planned = plan_task(task, Scene(ctx.folder, paths=ctx.paths, layer=ctx.layer), ctx.params, ctx.facts)
        plan = planned.plan
        payload = (  # travel and variations: the webui's Scene Import Script moves the conditioning
            script_body(plan, planned.canvases, ctx.data)
            if needs_script([plan])
            else to_payload(plan, ctx.facts.dialect, ctx.facts.unit_count, infotext=ctx.facts.infotext_script)
        )
    except SceneImportError as exc:
        r.errors.append(f"planning: {exc}")
        return r
    r.plan_hash, r.seed = plan_hash(payload), plan.seed
    if task.existing_hash == r.plan_hash:
        return replace(r, status="skipped")
    try:
        _attempts(ctx, ServerPool(ctx.pool, ctx.servers), endpoint(plan), payload, r)
    except NoServerLeft as exc:
        r.status = "failed"
        r.errors.append(exc.problem)
    return r
