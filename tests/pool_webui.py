"""A small stand-in for an A1111 webui on 127.0.0.1 for the cluster tests and bench/bench_cluster.py:
the routes the CLI asks (ControlNet models/settings/version, Scene Import's version) and a generation
route that answers a PNG and an infotext after ``delay`` seconds; it can answer 500 for its first
``fail_first`` generations, die after ``die_after`` images (before the last one is answered, so that
nothing else gets in: it hangs up on every later caller, keeping its port until :meth:`close`), and for its first
``kill_first`` requests SIGKILL the process that sent them (a Dask worker) and answer nothing. Its
images are fake_webui.paint's (an inpaint keeps the init image where the mask is black). It
records every image it made (with its route, whether it had a mask and an init image, its times)
and the most requests it ever had in flight at once."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

from fake_webui import LoopbackWebui, encode, paint


def sender(peer: tuple[str, int]) -> int:
    """The id of the process whose TCP socket is ``peer`` (never this one's: that would end the test)."""
    import psutil  # with Dask (its dependency); only where a test kills a worker

    for c in psutil.net_connections(kind="tcp"):
        if c.laddr and (c.laddr.ip, c.laddr.port) == tuple(peer) and c.pid and c.pid != os.getpid():
            return c.pid
    raise RuntimeError(f"no other process holds {peer}")


class FakeWebui(LoopbackWebui):
    def __init__(
        self, delay: float = 0.0, fail_first: int = 0, die_after: int | None = None, kill_first: int = 0
    ):
        self.delay, self.fail_first, self.die_after = delay, fail_first, die_after
        self.kill_first = kill_first
        self.killed: list[tuple[int, float]] = []  # (pid, when) of each process killed
        self.images: list[dict] = []  # every image made: seed, prompt, times
        self.failures = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.closed = False
        super().__init__()

    def routes(self) -> dict[str, dict]:
        return {**super().routes(), "/scene-import/v1/version": {"version": "0.1.0"}}

    def answer_from(self, peer: tuple[str, int], path: str, body: dict) -> tuple[int, dict]:
        with self.lock:
            kill = len(self.killed) < self.kill_first
            if kill:
                self.killed.append((sender(peer), time.time()))
        if kill:
            os.kill(self.killed[-1][0], signal.SIGKILL)
            return 503, {"detail": "the caller was killed"}  # nobody is there to read it
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
            dies = False
            with self.lock:
                if self.failures < self.fail_first:
                    self.failures += 1
                    return 500, {"error": "RuntimeError", "detail": "CUDA out of memory (fake)"}
                self.images.append(
                    {
                        "path": path,
                        "mask": "mask" in body,
                        "init": bool(body.get("init_images")),
                        "seed": body["seed"],
                        "prompt": body["prompt"],
                        "t0": t0,
                        "t1": time.time(),
                        "task": task,
                        "body": body,
                    }
                )
                dies = self.die_after is not None and len(self.images) == self.die_after
            if dies:  # dead before this answer goes out: no request is served after it
                self.dead = True
            info = {"seed": body["seed"], "infotexts": [f"{body['prompt']}\nSteps: 2, Seed: {body['seed']}"]}
            return 200, {
                "images": [encode(paint(body))],
                "info": json.dumps(info),
            }
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            super().close()
