"""Benchmark: every ratio of issue 10, side by side in one run, whole processes.

    python bench/bench_ratios.py [--sizes 1200,4096] [--big] [--repeat 3] [--ddp PATH]

For each square size N it writes real EXRs into a temp folder and times fresh interpreters (the
wall time of the whole process, the median of ``--repeat`` rounds in which the commands take
turns, and the peak RSS; lib_scene is compiled to bytecode first, as an installed package is):

* ``floor``: one OpenEXR decode of the depth file + one PNG encode (Pillow, zlib level 1) of an
  8-bit canvas-sized grey map: the least any tool must do;
* ``depth``: ``scene-import depth FILE --splits PRESET --out DIR`` (depth, test and region PNGs);
* ``plan floor`` / ``plan``: the same floor for a Blender 5 multi-pass file (beauty, depth,
  normal, object and material index, sidecar) with an RGB PNG, and ``scene-import plan`` on it;
* ``ddp`` (at 1200 only, when a checkout of curiousjp/daz_depthmap_processor is given by
  ``--ddp`` or ``$DDP_CHECKOUT``): its ``format_depthmap.py --regions`` on a Daz-style depth canvas
  (one ``Y`` channel in cm), against ``scene-import depth`` on the same file and against the floor
  for that file (the largest factor any tool could reach).

``--big`` adds 8192 (about a minute per process at that size). Then, in-process, the tab's three
edits at preview resolution including PNG encoding (``bench_preview.edits``). Every ratio is
printed from the same run. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)

from timing import PRESET  # noqa: E402

from lib_scene.exr import write_exr  # noqa: E402

FLOOR = """
import io, sys
import numpy as np, OpenEXR
from PIL import Image
f = OpenEXR.File(sys.argv[1], separate_channels=True)
chans = {n: np.asarray(c.pixels) for p in f.parts for n, c in p.channels.items()}
d = next(v for n, v in chans.items() if n.endswith(("Depth.Z", "Y")))
near, far = np.percentile(d[d < 1e9], [0, 100])
grey = np.clip((far - d) * (255.0 / (far - near)), 0, 255).astype(np.uint8)
img = Image.fromarray(np.dstack([grey] * 3), "RGB") if sys.argv[2] == "rgb" else Image.fromarray(grey, "L")
img.save(io.BytesIO(), format="PNG", compress_level=1)
"""


def depth_canvas(n: int) -> NDArray[np.float32]:
    """A floor-like gradient with ripples and noise, sky (1e10) in the top tenth."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32) / n
    depth = (1.0 + 8.0 * ys + 0.5 * np.sin(xs * 20)).astype(np.float32)
    depth += rng.normal(0, 0.01, depth.shape).astype(np.float32)
    depth[: n // 10] = 1e10
    out: NDArray[np.float32] = depth
    return out


def write_depth_file(path: str, n: int) -> None:
    """Blender 5 layout: depth + half RGBA beauty, ZIP (what bench_depth.py always used)."""
    rng = np.random.default_rng(1)
    beauty: dict[str, NDArray[Any]] = {
        f"ViewLayer.Combined.{c}": rng.random((n, n), dtype=np.float32).astype(np.float16) for c in "RGBA"
    }
    depth: dict[str, NDArray[Any]] = {"ViewLayer.Depth.Z": depth_canvas(n)}
    write_exr(path, {"ViewLayer.Combined": beauty, "ViewLayer.Depth": depth})


def write_daz_depth(path: str, n: int) -> None:
    """Daz Iray depth canvas: one float ``Y`` channel in cm, float max where nothing was hit."""
    d = depth_canvas(n)
    write_exr(
        path, {"Y": np.where(d > 1e9, np.float32(3.4028235e38), d * np.float32(100)).astype(np.float32)}
    )


def write_plan_file(folder: str, n: int) -> str:
    from scenes import sidecar, write_blender5  # type: ignore[import-not-found]

    path = os.path.join(folder, f"Plan{n}.exr")
    write_blender5(path, width=n, height=n)
    with open(os.path.join(folder, f"Plan{n}.json"), "w", encoding="utf-8") as fh:
        json.dump(sidecar(f"Plan{n}", n, n), fh)
    return path


#: The checkout whose lib_scene the timed commands run (``--code``; default this one).
CODE = [ROOT]
#: A checkout timed beside it in the same rounds (``--before``), e.g. main before a change.
BEFORE: list[str | None] = [None]


def bytecode_env() -> dict[str, str]:
    """The environment of the timed processes: lib_scene compiled to bytecode once beforehand, as
    an installed package is (with PYTHONDONTWRITEBYTECODE set, every run would compile its
    sources again, a cost the floor, whose modules are all compiled, never pays)."""
    import compileall

    for code in (CODE[0], BEFORE[0]):
        if code:
            compileall.compile_dir(os.path.join(code, "lib_scene"), quiet=1)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


_ENV: dict[str, str] | None = None


def run_process(cmd: Sequence[str], cwd: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process."""
    global _ENV
    if _ENV is None:
        _ENV = bytecode_env()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def rounds(cmds: dict[str, tuple[list[str], str]], repeat: int) -> dict[str, tuple[float, float]]:
    """Median wall seconds and peak RSS of each command over ``repeat`` rounds; the commands take
    turns within a round, so a burst of load from elsewhere slows a floor and its command alike."""
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, (cmd, cwd) in cmds.items():
            runs[k].append(run_process(cmd, cwd))
    return {k: (statistics.median(r[0] for r in v), max(r[1] for r in v)) for k, v in runs.items()}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "lib_scene", *args]


def write_inputs(n: int, tmp: str) -> None:
    """The input files of size n (run in a child process: a fork inherits the parent's peak RSS)."""
    write_depth_file(os.path.join(tmp, f"Cam{n}.exr"), n)
    write_plan_file(tmp, n)
    daz_dir = os.path.join(tmp, f"daz{n}")
    os.makedirs(daz_dir, exist_ok=True)
    if n <= 2048:
        write_daz_depth(os.path.join(daz_dir, "scene-Canvas2-Depth.exr"), n)


def size_rows(n: int, tmp: str, repeat: int, ddp: str | None) -> dict[str, tuple[float, float]]:
    py = sys.executable
    subprocess.run([py, os.path.abspath(__file__), "--write-inputs", str(n), tmp], check=True)
    exr = os.path.join(tmp, f"Cam{n}.exr")
    preset = os.path.join(tmp, "preset.json")
    with open(preset, "w", encoding="utf-8") as fh:
        json.dump(PRESET, fh)
    plan_exr = os.path.join(tmp, f"Plan{n}.exr")
    cmds: dict[str, tuple[list[str], str]] = {
        "floor": ([py, "-c", FLOOR, exr, "grey"], ROOT),
        "depth": (cli("depth", exr, "--splits", preset, "--out", os.path.join(tmp, "out")), CODE[0]),
        "plan floor": ([py, "-c", FLOOR, plan_exr, "rgb"], ROOT),
        "plan": (cli("plan", plan_exr, "--out", os.path.join(tmp, "plan")), CODE[0]),
    }
    if ddp and n <= 2048:
        daz = os.path.join(tmp, f"daz{n}", "scene-Canvas2-Depth.exr")
        script = os.path.join(ddp, "format_depthmap.py")
        cmds["ddp"] = ([py, script, daz, "--depth_cutoff", "1.5e+38", "--regions"], ddp)
        cmds["depth (daz)"] = (cli("depth", daz, "--out", os.path.join(tmp, "dazout")), CODE[0])
        cmds["floor (daz)"] = ([py, "-c", FLOOR, daz, "grey"], ROOT)
    if BEFORE[0]:  # the same commands from another checkout, in the same rounds
        for name in [k for k in cmds if k.startswith("depth") or k == "plan"]:
            cmds[f"{name} [before]"] = (cmds[name][0], BEFORE[0])
    rows = rounds(cmds, repeat)
    for name in (exr, plan_exr):
        os.unlink(name)
    return rows


def print_sizes(all_rows: dict[int, dict[str, tuple[float, float]]]) -> None:
    print(f"{'size':>6} {'what':<12} {'median s':>9} {'peak MB':>8}")
    for n, rows in all_rows.items():
        for name, (t, rss) in rows.items():
            print(f"{n:>6} {name:<12} {t:>9.3f} {rss:>8.0f}")
    print()
    print("ratios (each from this run):")
    floor_of = {"depth": "floor", "plan": "plan floor"}
    for n, rows in all_rows.items():
        r = [
            f"depth/floor {rows['depth'][0] / rows['floor'][0]:.2f}",
            f"plan/floor {rows['plan'][0] / rows['plan floor'][0]:.2f}",
        ]
        for name in ("depth", "plan"):
            if f"{name} [before]" in rows:
                r.append(f"before: {name}/floor {rows[f'{name} [before]'][0] / rows[floor_of[name]][0]:.2f}")
        if "ddp" in rows:
            r.append(f"ddp/depth {rows['ddp'][0] / rows['depth (daz)'][0]:.1f}x faster")
            if "depth (daz) [before]" in rows:
                r.append(f"before: ddp/depth {rows['ddp'][0] / rows['depth (daz) [before]'][0]:.1f}x")
            r.append(f"ddp/floor {rows['ddp'][0] / rows['floor (daz)'][0]:.1f}x (the most any tool can be)")
        print(f"  {n}: " + ", ".join(r))
    sizes = sorted(all_rows)
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        ra, rb = all_rows[a], all_rows[b]
        px = (b / a) ** 2
        print(
            f"  {b} vs {a} ({px:.1f}x pixels): depth {rb['depth'][0] / ra['depth'][0]:.2f}x, "
            f"plan {rb['plan'][0] / ra['plan'][0]:.2f}x, floor {rb['floor'][0] / ra['floor'][0]:.2f}x"
        )


EDITS = (
    "import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests', sys.argv[1] + '/bench']; "
    "from bench_preview import edits; print(json.dumps(edits(int(sys.argv[2]), int(sys.argv[3]))))"
)


def print_edits(checkouts: list[str], repeat: int) -> None:
    """The tab's edits (``bench_preview.edits`` of each checkout, its own code and PNG encoding), in
    fresh processes that take turns for ``repeat`` rounds; the median of the rounds' medians."""
    print()
    print("tab edits at preview resolution (long side 1024), PNG encoding included, median ms:")
    for n in (1200, 4096):
        got: dict[tuple[str, str], list[float]] = {}
        for _ in range(repeat):
            for c in checkouts:
                out = subprocess.run(
                    [sys.executable, "-c", EDITS, c, str(n), "5"], capture_output=True, text=True, check=True
                )
                for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items():
                    got.setdefault((c, k), []).append(v)
        for c in checkouts:
            tag = "" if c == CODE[0] else " [before]"
            row = ", ".join(f"{k} {statistics.median(v):.1f}" for (cc, k), v in got.items() if cc == c)
            print(f"  {n}x{n}{tag}: {row}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", default="1200,4096")
    ap.add_argument("--big", action="store_true", help="add 8192 (slow)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ddp", default=os.environ.get("DDP_CHECKOUT"), help="daz_depthmap_processor checkout")
    ap.add_argument("--no-preview", action="store_true")
    ap.add_argument("--code", default=ROOT, help="checkout whose lib_scene to time (default: this one)")
    ap.add_argument("--before", help="another checkout to time beside it in the same rounds (e.g. main)")
    ap.add_argument("--write-inputs", nargs=2, metavar=("N", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.write_inputs:
        write_inputs(int(args.write_inputs[0]), args.write_inputs[1])
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] + ([8192] if args.big else [])
    CODE[0] = os.path.abspath(args.code)
    BEFORE[0] = os.path.abspath(args.before) if args.before else None
    ddp = args.ddp if args.ddp and os.path.isfile(os.path.join(args.ddp, "format_depthmap.py")) else None
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}; median of {args.repeat}, whole processes"
    )
    print(f"DDP: {ddp or 'not given (--ddp PATH or DDP_CHECKOUT); skipped'}; lib_scene from {CODE[0]}")
    all_rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            all_rows[n] = size_rows(n, tmp, args.repeat, ddp)
    print_sizes(all_rows)
    if not args.no_preview:
        print_edits([c for c in (CODE[0], BEFORE[0]) if c], args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
