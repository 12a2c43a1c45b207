"""``scene-import run`` over several webuis with Dask distributed (the optional ``[cluster]`` extra).

Imported only when ``run`` is given several ``--webui`` or a ``--scheduler``; one ``--webui`` alone
stays the plain loop of ``lib_scene.cli_plan`` without Dask.

Where things run:

* **here** (the machine running ``run``): the servers' host facts (ControlNet models, units,
  dialect), the job's one seed, the task list (cheap: file names only), the server pool's leases
  (``cluster_pool``), and the writing of every image into ``--out`` as its result comes back, each
  exactly once, atomically;
* **on the Dask workers**: a chain's camera order (it reads every camera's pose), each task's
  planning (EXR decode, quantisation, masks; ``jobs.plan_task``) from the scene paths as given, so the
  scene must be visible to every worker at the same path (a shared folder; a ``LocalCluster``
  trivially), a chained camera's warp (``cluster_task``), then one HTTP request to a webui held from
  the pool. What is shipped to a worker: the task (names, paths, frame; a chained camera's step, order
  and earlier cameras' paths), the params, the host facts and the pool's names, and for a chained
  camera the images of the cameras before it (their results; on a rerun, one already in ``--out`` is
  read here and shipped with its task). What comes back: the image bytes and the webui's info (a
  chained camera's warp and mask too).

Resume: an image already in ``--out`` whose ``.info.json`` has the same plan hash is not generated
again; a random seed (``-1``) is drawn once per job and kept in ``OUT/scene-import-job.json``, so a
rerun with the same params and scene resumes with the same seed.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from .canvas import CameraSource, discover
from .cli_base import say
from .errors import HostError, InputError, SceneImportError
from .files import OutputBatch
from .jobs import (
    Task,
    TaskResult,
    animations,
    build_tasks,
    chain_camera_order,
    job_key,
    job_seed,
    refuse_chained_animation,
    resume_tasks,
    task_files,
    write_result,
)
from .params import PlanParams
from .progress import Steps
from .request import HostFacts, parse_params
from .webui_client import controlnet_models, controlnet_unit_count, detect_host, has_infotext_script

__all__ = ["ClusterOptions", "run_job"]


@dataclass(frozen=True)
class ClusterOptions:
    """``run``'s options for the Dask path."""

    paths: tuple[str, ...]
    urls: tuple[str, ...]
    out: str
    scheduler: str | None = None  # tcp://HOST:PORT of a running Dask scheduler; None: a LocalCluster
    layer: str | None = None
    timeout: float = 900.0
    retries: int = 3
    backoff: float = 0.5
    drop_after: int = 3
    frames_in_order: bool = False  # each camera's frames in order, each depending on the one before
    fps: float = 8.0  # frames per second of the animation files
    processes: bool = True  # LocalCluster workers as processes (planning in parallel) or threads
    protect: tuple[str, ...] = ()  # input files never to be overwritten


def _dask() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise InputError(
            "several --webui or --scheduler need Dask distributed: pip install 'scene-import[cluster]'"
        ) from exc
    return distributed


def host_facts(urls: tuple[str, ...], timeout: float = 30.0) -> tuple[HostFacts, list[str]]:
    """The first reachable webui's facts and every reachable url; the unreachable are warned about.
    Payloads carry Scene Import's infotext (``infotext_script``) only when every webui has it."""
    facts: HostFacts | None = None
    alive: list[str] = []
    if len(set(urls)) < len(urls):
        say("warning: a webui given twice is one server (one request at a time): the copy is left out")
    for url in dict.fromkeys(urls):
        try:
            f = HostFacts(
                models=tuple(controlnet_models(url, timeout)),
                unit_count=controlnet_unit_count(url, timeout),
                dialect=detect_host(url, timeout),
                infotext_script=has_infotext_script(url, timeout),
            )
        except SceneImportError as exc:
            say(f"warning: {url} left out of the pool: {exc.problem}")
            continue
        if facts is not None and (f.dialect, f.unit_count) != (facts.dialect, facts.unit_count):
            say(
                f"warning: {url} left out of the pool: it is {f.dialect} with {f.unit_count} units, unlike the first"
            )
            continue
        infotext = f.infotext_script and (facts is None or facts.infotext_script)
        facts = replace(facts or f, infotext_script=infotext)  # our infotext only where every webui has it
        alive.append(url)
    if facts is None:
        raise HostError("no webui could be reached: " + ", ".join(urls))
    return facts, alive


@contextmanager
def _client(opts: ClusterOptions) -> Iterator[Any]:
    dd = _dask()
    if opts.scheduler:
        with dd.Client(opts.scheduler) as client:
            yield client
        return
    m = len(opts.urls)
    workers = max(1, min(m, os.cpu_count() or 1)) if opts.processes else 1
    # workers as processes talk TCP on the loopback; as threads, in-process; the scheduler's HTTP
    # server (the dashboard, when bokeh is installed) on a free loopback port
    where: dict[str, Any] = {"host": "127.0.0.1"} if opts.processes else {}
    with (
        dd.LocalCluster(
            n_workers=workers,
            threads_per_worker=max(2, math.ceil(2 * m / workers)),
            processes=opts.processes,
            dashboard_address="127.0.0.1:0",
            **where,
        ) as cluster,
        dd.Client(cluster) as client,
    ):
        yield client


def _submit(client: Any, tasks: list[Task], ctx: Any) -> dict[Any, Task]:
    """One Dask task per image; a task with ``depends_on`` gets those tasks' futures as arguments,
    so Dask runs it after them and hands it their results (tasks come in dependency order)."""
    from .cluster_task import run_task

    by_key: dict[str, Any] = {}
    futures: dict[Any, Task] = {}
    tag = uuid.uuid4().hex[:8]
    for t in tasks:
        f = client.submit(
            run_task,
            t,
            ctx,
            *(by_key[k] for k in t.depends_on),
            key=f"scene-import-{t.key}-{tag}",
            pure=False,
            retries=1,
        )
        by_key[t.key] = f
        futures[f] = t
    return futures


@dataclass
class _Tally:
    written: dict[str, TaskResult] = field(default_factory=dict)  # key -> result (without images)
    skipped: int = 0
    failed: dict[str, list[str]] = field(default_factory=dict)  # key -> why
    dropped: dict[str, str] = field(default_factory=dict)  # webui -> why


def _write(opts: ClusterOptions, task: Task, r: TaskResult, tally: _Tally) -> None:
    try:
        write_result(opts.out, task, r, list(opts.protect))
    except (SceneImportError, OSError) as exc:
        tally.failed[task.key] = [*r.errors, f"writing the image: {exc}"]
        return
    tally.written[task.key] = replace(r, images=[])


def _collect(dd: Any, futures: dict[Any, Task], opts: ClusterOptions) -> _Tally:
    """Write each result as it comes (exactly once per task), count skips and failures."""
    tally = _Tally()
    bar = Steps(len(futures), "images", unit="image")  # one bar over the job, on a terminal only
    try:
        for fut in dd.as_completed(list(futures)):
            task = futures.pop(fut)
            try:
                r: TaskResult = fut.result()
            except Exception as exc:  # the worker itself was lost twice, or the task could not run
                r = TaskResult(task.key, "failed", errors=[f"the Dask task failed: {exc!r}"])
            for url, why in r.dropped:
                if url not in tally.dropped:
                    tally.dropped[url] = why
                    bar.print(f"warning: {url} dropped from the pool for the rest of the run: {why}")
            if r.status == "done" and task.key not in tally.written:
                _write(opts, task, r, tally)
            elif r.status == "skipped":
                tally.skipped += 1
            elif r.status == "failed":
                tally.failed[task.key] = r.errors
            bar.next(f"{task.key} {r.status}")
    finally:
        bar.close()
    return tally


def _summary(tally: _Tally, total: int, seconds: float) -> None:
    per: dict[str, list[float]] = {}
    for r in tally.written.values():
        per.setdefault(r.server, []).append(r.seconds)
    say(
        f"{len(tally.written)} image(s) written, {tally.skipped} already there, "
        f"{len(tally.failed)} failed, of {total}, in {seconds:.1f} s"
    )
    for url, times in sorted(per.items()):
        say(
            f"  {url}: {len(times)} image(s), {len(times) / max(seconds, 1e-9):.2f} images/s, "
            f"{sum(times) / len(times):.2f} s per image"
        )
    for url, why in tally.dropped.items():
        say(f"  {url}: dropped ({why})")


def _chain_order(
    sources: list[CameraSource], params: PlanParams, layer: str | None
) -> list[str] | SceneImportError:
    """:func:`chain_camera_order` on a worker; a bad scene's error is returned, to be raised here
    (a raised one would also be logged by the worker as a failed computation)."""
    try:
        return chain_camera_order(sources, params, layer)
    except SceneImportError as exc:
        return exc


def _prepare(client: Any, opts: ClusterOptions, params: PlanParams) -> list[Task]:
    """The job's tasks (a chain's order found on a worker: it reads every camera's pose), each with
    the plan hash of its image already in ``--out``; a chained camera's image that later cameras
    warp from is read from ``--out`` to go with its task (``done_image``)."""
    sources = discover(list(opts.paths))
    order = None
    if params.chain.enabled:
        found = client.submit(_chain_order, sources, params, opts.layer, pure=False).result()
        if isinstance(found, SceneImportError):
            raise found
        order = found
        say(f"chained: {' > '.join(order)}, per frame")
    tasks = build_tasks(sources, params, frames_in_order=opts.frames_in_order, chain=order)
    return resume_tasks(opts.out, tasks)


def _check(params: PlanParams, sources_paths: tuple[str, ...]) -> None:
    """What the Dask path refuses before it starts: the one-webui loop's refusals (a chain with
    travel or variations; the camera selection)."""
    refuse_chained_animation(params)
    build_tasks(discover(list(sources_paths)), params)


def run_job(opts: ClusterOptions, data: dict[str, Any]) -> int:
    """Run the whole job on Dask (see the module doc). ``data``: the params as the CLI gathered them.
    Exit code 0 when every image is written (or was already there), 1 with the list of failures."""
    dd = _dask()
    from .cluster_pool import close_pool, open_pool
    from .cluster_task import JobContext

    facts, urls = host_facts(opts.urls)
    params = parse_params(data, facts)
    _check(params, opts.paths)
    first = os.path.abspath(opts.paths[0])
    folder = first if os.path.isdir(first) else os.path.dirname(first)
    t0 = time.monotonic()
    with _client(replace(opts, urls=tuple(urls))) as client:
        link = client.dashboard_link if importlib.util.find_spec("bokeh") else None
        if link:
            say(f"Dask dashboard: {link}")
        tasks = _prepare(client, opts, params)  # (a chain's order first: a bad scene writes nothing)
        params = params.replace(seed=job_seed(opts.out, job_key(data, opts.paths), params.seed))
        opts = replace(opts, protect=(*opts.protect, *(f for t in tasks for f in task_files(t))))
        have = sum(t.existing_hash is not None for t in tasks)
        say(f"{len(tasks)} image(s), seed {params.seed}, {have} already in {opts.out}; {len(urls)} webui(s)")
        spec = open_pool(client, tuple(urls), f"scene-import-pool-{uuid.uuid4().hex[:8]}")
        ctx = JobContext(
            folder,
            tuple(opts.paths),
            params.replace(camera=None),
            facts,
            spec,
            opts.layer,
            opts.timeout,
            opts.retries,
            opts.backoff,
            opts.drop_after,
            data,
        )
        try:
            tally = _collect(dd, _submit(client, tasks, ctx), opts)
        finally:
            close_pool(client, spec)
    _summary(tally, len(tasks), time.monotonic() - t0)
    return _finish(opts, tasks, tally)


def _finish(opts: ClusterOptions, tasks: list[Task], tally: _Tally) -> int:
    if tally.written:  # the animation files of what changed
        batch = OutputBatch(protect=list(opts.protect))
        for path, blob in animations(opts.out, tasks, opts.fps).items():
            batch.add(path, blob)
        for path in batch.commit():
            say(f"wrote {path}")
    if tally.failed:
        say(f"{len(tally.failed)} image(s) failed:")
        for key, errors in tally.failed.items():
            say(f"  {key}: " + "; ".join(errors))
        return 1
    return 0
