"""The single-server ``run`` loop's job (``lib_scene.cli_plan``): each image generated once, resumed.

The rule and the files are the Dask path's (``lib_scene.jobs``; this module imports no Dask):

* every image is written with ``<stem>.info.json`` holding its plan hash (the SHA-256 of the exact
  request body, :func:`lib_scene.jobs.plan_hash`); an image already in ``--out`` with the same hash
  is not generated again (it is read back: the animation files and a chain's next camera need it);
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
from .jobs import decode_images, existing_hash, parse_info, plan_hash, write_image
from .plan import GenerationPlan
from .request import HostFacts
from .webui_client import WebuiError, request_json
from .wire import endpoint, to_payload

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
    todo: list[str]  # every image's stem (``Cam0``, ``Cam0.0003.v01``), in order
    written: list[str] = field(default_factory=list)  # stems generated and written by this run
    skipped: list[str] = field(default_factory=list)  # stems already there with the same plan
    files: list[str] = field(default_factory=list)  # every file this run wrote
    current: str = ""  # the stem being generated

    def payload(self, plan: GenerationPlan) -> dict[str, Any]:
        """The plan's request body for this webui (our infotext when it has Scene Import)."""
        f = self.facts
        return to_payload(plan, f.dialect, f.unit_count, infotext=f.infotext_script)

    def image(self, plan: GenerationPlan, body: dict[str, Any], stem: str) -> bytes:
        """Generate ``body`` as ``OUT/<stem>.png`` (with its infotext and info) and return the image,
        or read it back when it is already there with the same plan hash."""
        base = os.path.join(self.out, stem)
        self.current = stem
        digest = plan_hash(body)
        if existing_hash(base) == digest:
            self.skipped.append(stem)
            say(f"  {stem}: already in {self.out} with the same plan, skipped")
            with open(base + ".png", "rb") as fh:
                return fh.read()
        started = time.time()
        answer = request_json(self.url.rstrip("/") + endpoint(plan), body, timeout=self.timeout)
        images = decode_images(answer) if isinstance(answer, dict) else []
        if not isinstance(answer, dict) or not images:
            raise WebuiError(f"{stem}: the webui answered without images", self.url)
        var = plan.animation.get("variation")
        frame = plan.animation.get("frame")
        meta = {
            "plan_hash": digest,
            "camera": plan.camera,
            "frame": frame if isinstance(frame, int) else None,
            "variation": int(var["index"]) if isinstance(var, dict) else None,
            "seed": plan.seed,
            "server": self.url,
            "attempts": 1,
            "requested_at": started,
            "answered_at": time.time(),
        }
        self.files += write_image(base, images, parse_info(answer.get("info")), meta, self.protect)
        self.written.append(stem)
        say(f"  {len(images)} image(s) saved as {base}*.png")
        return images[0]

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
        missing = [s for s in self.todo if s not in done]
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
