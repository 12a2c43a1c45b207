"""``scene-import run`` over several webuis with Dask distributed (the optional ``[cluster]`` extra).

Imported only when ``run`` is given several ``--webui`` or a ``--scheduler``; one ``--webui`` alone
stays the plain loop of ``lib_scene.cli_plan`` without Dask.

Where things run:

* **here** (the machine running ``run``): the servers' host facts (ControlNet models, units,
  dialect), the job's one seed, the task list (cheap: file names only), the server pool, and the
  writing of every image into ``--out`` as its result comes back, each exactly once, atomically;
* **on the Dask workers**: each task's planning (EXR decode, quantisation, masks; ``jobs.plan_task``)
  from the scene paths as given, so the scene must be visible to every worker at the same path (a
  shared folder; a ``LocalCluster`` trivially), then one HTTP request to a webui taken from the pool
  (``cluster_task``). What is shipped to a worker: the task (names, paths, frame), the params, the
  host facts and the pool's name; what comes back: the image bytes and the webui's info.

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

from .canvas import discover
from .cli_base import say
from .errors import HostError, InputError, SceneImportError
from .files import OutputBatch
from .jobs import (
    Task,
    TaskResult,
    animations,
    build_tasks,
    existing_hashes,
    job_key,
    job_seed,
    task_files,
    write_result,
)
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
    chain: bool = False  # each camera's frames in order, each depending on the one before
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


def run_job(opts: ClusterOptions, data: dict[str, Any]) -> int:
    """Run the whole job on Dask (see the module doc). ``data``: the params as the CLI gathered them.
    Exit code 0 when every image is written (or was already there), 1 with the list of failures."""
    dd = _dask()
    from .cluster_task import JobContext

    facts, urls = host_facts(opts.urls)
    params = parse_params(data, facts)
    sources = discover(list(opts.paths))
    tasks = build_tasks(sources, params, chain=opts.chain)
    params = params.replace(seed=job_seed(opts.out, job_key(data, opts.paths), params.seed), camera=None)
    have = existing_hashes(opts.out, tasks)
    opts = replace(opts, protect=(*opts.protect, *(f for t in tasks for f in task_files(t))))
    tasks = [replace(t, existing_hash=have.get(t.key)) for t in tasks]
    first = os.path.abspath(opts.paths[0])
    folder = first if os.path.isdir(first) else os.path.dirname(first)
    say(f"{len(tasks)} image(s), seed {params.seed}, {len(have)} already in {opts.out}; {len(urls)} webui(s)")
    t0 = time.monotonic()
    with _client(replace(opts, urls=tuple(urls))) as client:
        link = client.dashboard_link if importlib.util.find_spec("bokeh") else None
        if link:
            say(f"Dask dashboard: {link}")
        pool = f"scene-import-pool-{uuid.uuid4().hex[:8]}"
        queue = dd.Queue(pool, client=client)
        for url in urls:
            queue.put([url, 0])
        ctx = JobContext(
            folder,
            tuple(opts.paths),
            params,
            facts,
            pool,
            len(urls),
            opts.layer,
            opts.timeout,
            opts.retries,
            opts.backoff,
            opts.drop_after,
            data,
        )
        tally = _collect(dd, _submit(client, tasks, ctx), opts)
    _summary(tally, len(tasks), time.monotonic() - t0)
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
