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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

MODELS = ["None", "control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_normalbae [316696f1]"]


def png_b64(width: int, height: int, value: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (value % 256, 2, 3)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


class FakeWebui:
    def __init__(self, delay: float = 0.0, fail_first: int = 0, die_after: int | None = None):
        self.delay, self.fail_first, self.die_after = delay, fail_first, die_after
        self.images: list[dict] = []  # every image made: seed, prompt, times
        self.failures = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.closed = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _json(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                routes = {
                    "/controlnet/model_list": {"model_list": MODELS},
                    "/controlnet/settings": {"control_net_unit_count": 3},
                    "/controlnet/version": {"version": 3},
                    "/scene-import/v1/version": {"version": "0.1.0"},
                }
                path = self.path.split("?")[0]
                return (
                    self._json(200, routes[path])
                    if path in routes
                    else self._json(404, {"detail": "Not Found"})
                )

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self._json(*outer.generate(self.path, body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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
            self.server.shutdown()
            self.server.server_close()
