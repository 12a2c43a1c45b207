"""A small stand-in for an A1111 webui on 127.0.0.1 for the cluster tests and bench/bench_cluster.py:
the routes the CLI asks (ControlNet models/settings/version, Scene Import's version) and a generation
route that answers a PNG and an infotext after ``delay`` seconds; it can answer 500 for its first
``fail_first`` generations and shut itself down after ``die_after`` images. It records every image
it made and the most requests it ever had in flight at once."""

from __future__ import annotations

import base64
import io
import json
import threading
import time

from fake_webui import LoopbackWebui
from PIL import Image


def png_b64(width: int, height: int, value: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (value % 256, 2, 3)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


class FakeWebui(LoopbackWebui):
    def __init__(self, delay: float = 0.0, fail_first: int = 0, die_after: int | None = None):
        self.delay, self.fail_first, self.die_after = delay, fail_first, die_after
        self.images: list[dict] = []  # every image made: seed, prompt, times
        self.failures = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.closed = False
        super().__init__()

    def routes(self) -> dict[str, dict]:
        return {**super().routes(), "/scene-import/v1/version": {"version": "0.1.0"}}

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        return self.generate(path, body)

    def generate(self, path: str, body: dict) -> tuple[int, dict]:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            t0 = time.time()
            time.sleep(self.delay)
            task = (body.get("script_args") or [{}])[0]  # through the Scene Import Script: its task
            body = {
                "width": 64,
                "height": 48,
                "prompt": "",
                **body,
                "seed": body.get("seed", task.get("seed")),
            }
            with self.lock:
                if self.failures < self.fail_first:
                    self.failures += 1
                    return 500, {"error": "RuntimeError", "detail": "CUDA out of memory (fake)"}
                self.images.append(
                    {
                        "seed": body["seed"],
                        "prompt": body["prompt"],
                        "t0": t0,
                        "t1": time.time(),
                        "task": task,
                    }
                )
                if self.die_after is not None and len(self.images) >= self.die_after:
                    threading.Thread(target=self.close, daemon=True).start()
            info = {"seed": body["seed"], "infotexts": [f"{body['prompt']}\nSteps: 2, Seed: {body['seed']}"]}
            return 200, {
                "images": [png_b64(body["width"], body["height"], body["seed"])],
                "info": json.dumps(info),
            }
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            super().close()
