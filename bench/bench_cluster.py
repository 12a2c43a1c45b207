"""Benchmark: ``scene-import run`` throughput against the number of webuis (Dask distributed).

    python bench/bench_cluster.py [--servers 1 2 4] [--delay 0.5] [--cameras 4] [--frames 6]
                                  [--local-cluster threads|processes] [--repeat 3] [--chain]

Writes a real scene of CAMERAS x FRAMES small cameras (Blender 5 EXRs with sidecars, tests/scenes.py),
starts M fake webuis on 127.0.0.1 (tests/pool_webui.py) that each answer one image after a fixed
DELAY, and runs the whole job the way ``run --webui ... --webui ...`` does (``lib_scene.cluster.run_job``:
a LocalCluster, the planning on its workers, the server pool; also for M = 1, which the CLI would
run as its plain loop) into a fresh folder, for each M. Throughput is images per
second while the servers work (first request sent to last answer, from the servers' own log), and
end to end (cluster start and planning included), the median of ``--repeat`` runs. It prints the
ratio to one server; the target is at least 0.8 * M for M <= 4. With ``--chain`` the cameras are
chained per frame (each frame's cameras one after the other, the frames side by side). Nothing is
asserted. Needs ``pip install 'scene-import[cluster]'``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from pool_webui import FakeWebui
from scenes import sidecar, write_blender5

from lib_scene.cluster import ClusterOptions, run_job


def write_scene(folder: str, cameras: int, frames: int) -> None:
    os.makedirs(folder)
    for c in range(cameras):
        for f in range(1, frames + 1):
            name = f"Cam{c}_{f:04d}"
            write_blender5(os.path.join(folder, name + ".exr"))
            with open(os.path.join(folder, name + ".json"), "w") as fh:
                json.dump(sidecar(name), fh)


def one_run(
    scene: str, out: str, m: int, delay: float, local: str, chain: bool
) -> tuple[float, float, list[int]]:
    """(images/s while serving, images/s end to end, images per server)."""
    servers = [FakeWebui(delay) for _ in range(m)]
    opts = ClusterOptions((scene,), tuple(s.url for s in servers), out, processes=local == "processes")
    params: dict[str, object] = {"long_side": 64, **({"chain": {"enabled": True}} if chain else {})}
    try:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            rc = run_job(opts, params)
        wall = time.perf_counter() - t0
    finally:
        for s in servers:
            s.close()
    if rc != 0:
        raise SystemExit(f"run failed with {rc} for {m} server(s)")
    made = [im for s in servers for im in s.images]
    serving = max(im["t1"] for im in made) - min(im["t0"] for im in made)
    return len(made) / serving, len(made) / wall, [len(s.images) for s in servers]


def run() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--delay", type=float, default=0.5, help="seconds per image on every fake webui")
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--local-cluster", choices=("threads", "processes"), default="threads")
    ap.add_argument("--repeat", type=int, default=3, help="runs per server count (the median is shown)")
    ap.add_argument("--chain", action="store_true", help="chain the cameras per frame")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scene = os.path.join(tmp, "scene")
        write_scene(scene, a.cameras, a.frames)
        n = a.cameras * a.frames
        print(f"{n} images ({a.cameras} cameras x {a.frames} frames), {a.delay:g} s per image per webui, "
              f"LocalCluster of {a.local_cluster}" + (", chained per frame" if a.chain else ""))  # fmt: skip
        base = None
        for m in a.servers:
            runs = [
                one_run(scene, os.path.join(tmp, f"out{m}-{k}"), m, a.delay, a.local_cluster, a.chain)
                for k in range(a.repeat)
            ]
            rate = statistics.median(r[0] for r in runs)
            e2e = statistics.median(r[1] for r in runs)
            base = base or rate
            print(
                f"  {m} webui(s): {rate:.2f} images/s serving ({rate / base:.2f}x one, target >= "
                f"{0.8 * m:.1f}x), {e2e:.2f} images/s end to end, per server {runs[-1][2]} "
                f"(median of {a.repeat})"
            )


if __name__ == "__main__":
    run()
