"""The single-server ``run`` loop (``lib_scene.cli_plan``): the job's tasks in order, each image
generated once, resumed.

It walks the Dask path's task list (``lib_scene.jobs.build_tasks``: which images, in which order,
which depend on which; a chain per frame, camera k after the cameras before it) and does for each
task what a Dask worker does (``lib_scene.job_step.generate``), posting to its one webui; the rule
and the files are the Dask path's (this module imports no Dask):

* every image is written with ``<stem>.info.json`` holding its plan hash (the SHA-256 of the exact
  request body, :func:`lib_scene.jobs.plan_hash`); an image already in ``--out`` with the same hash
  is not generated again (a chained camera's is read back for the cameras after it);
* a random seed (``-1``) is drawn once per job and kept in ``OUT/scene-import-job.json``;
* a failure mid-run (the webui down, an error answer, an answer without images) ends the run with
  the images written, the ones already there and the ones not written; a rerun of the same command
  continues where it stopped.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .cli_base import say
from .errors import SceneImportError
from .files import OutputBatch, png_bytes
from .job_step import generate
from .jobs import Task, TaskResult, animations, output_base, write_result
from .plan import GenerationPlan
from .progress import progress
from .request import HostFacts, Planned
from .webui_client import WebuiError, post_for_images
from .wire import endpoint

__all__ = ["RunJob"]


def _same(path: str, data: bytes) -> bool:
    """True when ``path`` already holds exactly ``data``."""
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


@dataclass
class RunJob:
    """One ``run`` against one webui: what it generates, skips and writes."""

    url: str
    facts: HostFacts
    out: str
    timeout: float
    protect: list[str]  # the inputs, never overwritten
    tasks: list[Task]  # every image, in order (``lib_scene.jobs.build_tasks``, resume_tasks)
    written: list[str] = field(default_factory=list)  # keys generated and written by this run
    skipped: list[str] = field(default_factory=list)  # keys already there with the same plan
    files: list[str] = field(default_factory=list)  # every file this run wrote
    current: str = ""  # the key being generated
    step: int = 0  # the number of the image being generated, 1..len(tasks)

    def post(self, plan: GenerationPlan, body: dict[str, Any], r: TaskResult) -> dict[str, Any]:
        """POST ``body`` to this webui: its answer (with images), or WebuiError (the run stops)."""
        _announce(self.step, len(self.tasks), r.key, plan)
        started, t0 = time.time(), time.monotonic()
        r.attempts += 1
        answer = post_for_images(self.url, endpoint(plan), body, self.timeout, r.key)
        r.server, r.seconds = self.url, time.monotonic() - t0
        r.started, r.finished = started, time.time()
        return answer

    def run(
        self, planned: Mapping[str, Planned], data: dict[str, Any], layer: str | None, fps: float
    ) -> None:
        """Every task in turn, each written as it is done, then the animation files (when an image was
        written). ``planned``: each task's plan (``lib_scene.jobs.plan_tasks``)."""
        images: dict[str, bytes] = {}  # the images later cameras of a chain warp from
        warped_from = {k for t in self.tasks if t.chain for k, _ in t.chain.before}
        canvases = {key: pl.canvases for key, pl in planned.items()}
        for i, task in enumerate(progress(self.tasks, "run", unit="image"), 1):  # a bar: image i/n
            self.step, self.current = i, task.key
            before = {k: images[k] for k, _ in task.chain.before if k in images} if task.chain else {}
            r = generate(
                task, planned[task.key], before, self.facts, data, self.post, layer=layer, canvases=canvases
            )
            if r.status == "skipped":
                self.skipped.append(task.key)
                say(f"  {task.key}: already in {self.out} with the same plan, skipped")
            else:  # done: a failure raised
                self.files += write_result(self.out, task, r, self.protect)
                self.written.append(task.key)
                say(f"  {len(r.images)} image(s) saved as {output_base(self.out, task)}*.png")
            if r.images and task.key in warped_from:
                images[task.key] = r.images[0]
        if self.written:
            self.write_new(animations(self.out, self.tasks, fps))

    def write_new(self, files: Mapping[str, bytes | NDArray[np.uint8]]) -> None:
        """Write ``files`` (bytes, or 8-bit arrays as PNG) at once, leaving out those whose content is
        already there (a resumed run rewrites nothing)."""
        batch = OutputBatch(protect=self.protect)
        for path, data in files.items():
            blob = data if isinstance(data, bytes) else png_bytes(data)
            if not _same(path, blob):
                batch.add(path, blob)
        self.files += batch.commit()

    def summary(self) -> str:
        line = f"{len(self.written)} image(s) written, {len(self.skipped)} already there"
        if self.skipped:
            line += f" with the same plan (skipped: {', '.join(self.skipped)})"
        return line

    def stopped(self, exc: SceneImportError) -> int:
        """Say why the run stopped, which images were written and which were not; the exit status:
        1 when the webui failed (no answer, 5xx, no images), 2 when the request or an output was
        refused (a 4xx answer: the same request would fail again)."""
        done = set(self.written) | set(self.skipped)
        missing = [t.key for t in self.tasks if t.key not in done]
        lines = [
            f"scene-import: error: {exc}",
            f"scene-import: the run stopped at {self.current or 'the start'}: {self.summary()}",
            f"  written: {', '.join(self.written) or 'none'}",
            f"  not written: {', '.join(missing) or 'none'}",
            "  rerun the same command to continue: the images written are kept and not made again",
        ]
        for path in self.files:
            say(f"wrote {path}")
        print("\n".join(lines), file=sys.stderr, flush=True)
        server = isinstance(exc, WebuiError) and (exc.status is None or exc.status >= 500)
        return 1 if server else 2


def _announce(i: int, n: int, key: str, plan: GenerationPlan) -> None:
    what = f"POST {endpoint(plan)} ({plan.width}x{plan.height})"
    if plan.mask is not None:
        carried = 100.0 * float(plan.chain.get("carried", 0.0))
        what += f", inpaint: {carried:.1f}% carried from {', '.join(plan.chain.get('after', []))}"
    elif "Scene Import chain blend" in plan.infotext:
        what += f", the seam blend pass, denoise {plan.denoising_strength:g}"
    say(f"{'frame' if plan.animation else 'camera'} {i}/{n}: {key} -> {what}")
    for w in plan.warnings:
        say(f"  warning: {w}")
