"""``scene-import run`` over several webuis on Dask distributed (lib_scene/cluster.py, cluster_task.py,
jobs.py): a real LocalCluster (threads), real EXRs planned on its workers, and small fake webuis on
127.0.0.1 (tests/pool_webui.py): one answering 500 for a while, one shutting down mid-run, one slow.
Skipped where Dask is not installed (the A1111-pins venv)."""

from __future__ import annotations

import importlib.util
import json
import os
import types
from collections import Counter

import pytest
from PIL import Image
from pool_webui import FakeWebui
from scenes import sidecar, write_blender5

from lib_scene import cluster, cluster_pool
from lib_scene.animation import out_stem
from lib_scene.canvas import CameraSource, discover
from lib_scene.cli import main
from lib_scene.cluster_pool import PoolSpec
from lib_scene.cluster_task import JobContext, run_task
from lib_scene.errors import NotFoundError
from lib_scene.jobs import Task, TaskResult, build_tasks, output_base, plan_task, task_files
from lib_scene.params import PlanParams
from lib_scene.request import HostFacts, Scene, resolve
from lib_scene.wire import to_payload


def write_scene(folder, cameras, frames):
    folder.mkdir()
    for c in range(cameras):
        for f in range(1, frames + 1):
            name = f"Cam{c}_{f:04d}"
            write_blender5(str(folder / f"{name}.exr"))
            (folder / f"{name}.json").write_text(json.dumps(sidecar(name)))
    return folder


# --------------------------------------------------------------------------- the job, without Dask


def test_frames_variations_and_chained_tasks(tmp_path):
    scene = write_scene(tmp_path / "s", 2, 3)
    sources = discover([str(scene)])
    tasks = build_tasks(sources, PlanParams(), frames_in_order=True)
    assert [t.key for t in tasks] == [f"Cam{c}.{f:04d}" for c in range(2) for f in (1, 2, 3)]
    assert [t.depends_on for t in tasks[:3]] == [(), ("Cam0.0001",), ("Cam0.0002",)]
    assert tasks[3].depends_on == () and task_files(tasks[4]) == [
        str(scene / "Cam1_0002.exr"),
        str(scene / "Cam1_0002.json"),
    ]
    assert all(t.depends_on == () for t in build_tasks(sources, PlanParams()))
    picked = build_tasks(sources, PlanParams(camera="Cam1", frames="2-", variations={"count": 2}))
    assert [t.key for t in picked] == ["Cam1.0002.v00", "Cam1.0002.v01", "Cam1.0003.v00", "Cam1.0003.v01"]
    with pytest.raises(NotFoundError):
        build_tasks(sources, PlanParams(camera="Cam9"))
    (still,) = build_tasks(discover([str(scene / "Cam0_0001.exr")]), PlanParams())
    assert (still.key, still.frame) == ("Cam0_0001", None)
    morph = build_tasks(discover([str(scene / "Cam0_0001.exr")]), PlanParams(frames=3))
    assert [t.key for t in morph] == ["Cam0_0001.0000", "Cam0_0001.0001", "Cam0_0001.0002"]


def test_a_task_is_planned_as_the_resolver_plans_its_frame_and_variation(tmp_path):
    scene = write_scene(tmp_path / "s", 1, 3)
    params = PlanParams(seed=5, long_side=64, variations={"count": 2, "sigma": 0.02})
    everything = resolve(Scene(str(scene), paths=(str(scene),)), params, HostFacts())
    tasks = build_tasks(discover([str(scene)]), params)
    assert len(tasks) == len(everything) == 6
    for task, plan in zip(tasks, everything, strict=True):
        mine = plan_task(task, Scene(str(scene), paths=(str(scene),)), params, HostFacts()).plan
        assert mine.animation == plan.animation and to_payload(mine) == to_payload(plan)
        assert output_base("", task) == out_stem(plan)


def test_a_task_after_a_failed_one_fails_with_its_reason():
    ctx = JobContext(
        "/nowhere", ("/nowhere",), PlanParams(), HostFacts(), PoolSpec("pool", ("http://127.0.0.1:9",))
    )
    prev = TaskResult("Cam0.0001", "failed", errors=["x"])
    src = CameraSource("Cam0", "exr", {"file": "/nowhere/Cam0_0001.exr"}, ((1, "/nowhere/Cam0_0001.exr"),))
    r = run_task(Task("Cam0.0002", "Cam0", src, 2), ctx, prev)
    assert r.status == "failed" and r.errors == ["depends on Cam0.0001, which failed"]


# --------------------------------------------------------------------------- on a LocalCluster

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="Dask distributed is not installed"
)


@pytest.fixture
def writes(monkeypatch):
    """Every image the client writes, by task key."""
    seen: Counter[str] = Counter()
    real = cluster.write_result

    def spy(out, task, result, protect):
        seen[task.key] += 1
        return real(out, task, result, protect)

    monkeypatch.setattr(cluster, "write_result", spy)
    return seen


def run_args(scene, out, servers, *extra):
    args = ["run", str(scene), "--out", str(out), "--local-cluster", "threads", "--backoff", "0.05"]
    for s in servers:
        args += ["--webui", s.url]
    return [*args, "--params", '{"long_side": 64, "steps": 2}', *extra]


@needs_dask
def test_24_images_over_three_faulty_servers_exactly_once_then_a_rerun_writes_nothing(
    tmp_path, writes, capsys
):
    scene = write_scene(tmp_path / "scene", 4, 6)
    out = tmp_path / "out"
    flaky, dying, slow = FakeWebui(0.05, fail_first=2), FakeWebui(0.05, die_after=3), FakeWebui(0.4)
    servers = [flaky, dying, slow]
    try:
        assert main(run_args(scene, out, servers, "--timeout", "10")) == 0
        text = capsys.readouterr().out
        keys = [f"Cam{c}.{f:04d}" for c in range(4) for f in range(1, 7)]
        assert sorted(writes) == keys and set(writes.values()) == {1}  # each image written once
        made = [im for s in servers for im in s.images]
        assert len(made) == 24  # and generated once: no request was lost or repeated
        assert all(s.most_in_flight == 1 for s in servers)  # no server ever had two requests
        assert flaky.failures == 2 and dying.dead and len(dying.images) == 3
        # dying is dropped exactly when 3 requests in a row found it gone (how many try it depends on
        # the pool's first choice and the load: a faster webui is taken first, test_cluster_pool.py)
        assert 0 <= dying.hung_up <= 3, dying.hung_up
        metas = [json.loads(p.read_text())["scene_import"] for p in out.glob("*.info.json")]
        failed = sum(m["attempts"] for m in metas) - 24  # every failed attempt (those of a written image)
        assert (f"{dying.url} dropped from the pool" in text) == (dying.hung_up == 3), (
            dying.hung_up,
            failed,
            text,
        )
        assert flaky.url + ": dropped" not in text and slow.url + ": dropped" not in text
        seed = made[0]["seed"]
        assert {im["seed"] for im in made} == {seed}  # one seed for the job
        for c in range(4):
            for f in range(1, 7):
                meta = json.loads((out / f"Cam{c}.{f:04d}.info.json").read_text())["scene_import"]
                assert (meta["camera"], meta["frame"], meta["seed"]) == (f"Cam{c}", f, seed)
                assert f"Seed: {seed}" in (out / f"Cam{c}.{f:04d}.infotext.txt").read_text()
                assert (out / f"Cam{c}.{f:04d}.png").stat().st_size > 0
        assert "24 image(s) written, 0 already there, 0 failed, of 24" in text
        assert "images/s" in text
        anim = [p for p in out.iterdir() if p.suffix in (".webp", ".gif")]
        assert sorted(p.stem for p in anim) == ["Cam0", "Cam1", "Cam2", "Cam3"]
        with Image.open(anim[0]) as im:  # (the fake's frames are all alike: one frame, 6x as long)
            assert im.format in ("WEBP", "GIF") and im.size == (64, 48)

        writes.clear()
        assert main(run_args(scene, out, servers)) == 0  # the same job again: nothing to do
        text = capsys.readouterr().out
        assert not writes and sum(len(s.images) for s in servers) == 24
        assert f"resuming the job in {out} with its seed {seed}" in text
        assert "0 image(s) written, 24 already there" in text
    finally:
        for s in servers:
            s.close()


@needs_dask
def test_frames_in_order_keep_their_order_and_a_changed_plan_is_redone(tmp_path, writes, capsys):
    scene = write_scene(tmp_path / "scene", 2, 3)
    out = tmp_path / "out"
    servers = [FakeWebui(0.1), FakeWebui(0.1), FakeWebui(0.1)]
    try:
        assert main([*run_args(scene, out, servers), "--frames-in-order", "--seed", "7"]) == 0
        for c in range(2):
            metas = [
                json.loads((out / f"Cam{c}.{f:04d}.info.json").read_text())["scene_import"] for f in (1, 2, 3)
            ]
            for before, after in zip(metas[:-1], metas[1:], strict=True):
                assert after["requested_at"] >= before["answered_at"]
        writes.clear()
        assert main([*run_args(scene, out, servers), "--frames-in-order", "--seed", "8"]) == 0  # a new plan
        assert len(writes) == 6 and sum(len(s.images) for s in servers) == 12
    finally:
        for s in servers:
            s.close()


@needs_dask
def test_a_job_whose_servers_all_fail_lists_what_failed_and_why(tmp_path, writes, capsys):
    scene = write_scene(tmp_path / "scene", 1, 2)
    bad = FakeWebui(0.0, fail_first=100)
    other = FakeWebui(0.0, fail_first=100)
    try:
        rc = main([*run_args(scene, tmp_path / "out", [bad, other]), "--retries", "1"])
    finally:
        bad.close()
        other.close()
    text = capsys.readouterr().out
    assert rc == 1 and not writes
    assert "2 image(s) failed:" in text
    assert "Cam0.0001: " in text and "HTTP 500: CUDA out of memory (fake)" in text


@needs_dask
def test_worker_processes_plan_and_generate_a_small_job(tmp_path, capsys):
    scene = write_scene(tmp_path / "scene", 2, 2)
    servers = [FakeWebui(0.05), FakeWebui(0.05)]
    try:
        args = run_args(scene, tmp_path / "out", [*servers, servers[0]])
        args[args.index("threads")] = "processes"
        assert main(args) == 0
    finally:
        for s in servers:
            s.close()
    text = capsys.readouterr().out
    assert "a webui given twice is one server" in text and "4 image(s) written" in text
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [
        "Cam0.0001.png", "Cam0.0002.png", "Cam1.0001.png", "Cam1.0002.png"
    ]  # fmt: skip
    assert all(s.most_in_flight == 1 for s in servers)


@needs_dask
def test_variations_go_through_the_webuis_scene_import_script(tmp_path, capsys):
    scene = write_scene(tmp_path / "scene", 1, 2)
    servers = [FakeWebui(0.02), FakeWebui(0.02)]
    try:
        args = run_args(scene, tmp_path / "out", servers)
        args[args.index("--params") + 1] = '{"long_side": 64, "variations": {"count": 2, "sigma": 0.02}}'
        assert main([*args, "--seed", "9"]) == 0
    finally:
        for s in servers:
            s.close()
    tasks = sorted(
        (im["task"]["frames"], im["task"]["variations"]["index"], im["task"]["seed"])
        for s in servers
        for im in s.images
    )
    assert tasks == [("1", 0, 9), ("1", 1, 9), ("2", 0, 9), ("2", 1, 9)]
    names = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert names == ["Cam0.0001.v00.png", "Cam0.0001.v01.png", "Cam0.0002.v00.png", "Cam0.0002.v01.png"]


@needs_dask
def test_a_timed_out_request_is_retried_on_another_webui(tmp_path, writes, capsys, monkeypatch):
    scene = write_scene(tmp_path / "scene", 1, 3)
    stuck, quick = FakeWebui(1.5), FakeWebui(0.02)
    # the pool's first choice (random per worker) is the first webui, `stuck`: the first request
    # goes there whatever the timing (a threads LocalCluster: the pool lives in this process)
    monkeypatch.setattr(cluster_pool, "random", types.SimpleNamespace(randrange=lambda n: 0))
    try:
        assert main([*run_args(scene, tmp_path / "out", [stuck, quick]), "--timeout", "0.5"]) == 0
    finally:
        stuck.close()
        quick.close()
    assert sorted(writes) == ["Cam0.0001", "Cam0.0002", "Cam0.0003"] and set(writes.values()) == {1}
    metas = [json.loads((tmp_path / "out" / f"Cam0.{f:04d}.info.json").read_text()) for f in (1, 2, 3)]
    assert {m["scene_import"]["server"] for m in metas} == {quick.url}
    assert any(m["scene_import"]["attempts"] > 1 for m in metas)  # the first request went to `stuck`


@needs_dask
def test_a_worker_killed_mid_request_gives_its_webui_back(tmp_path, writes, capsys):
    # one webui only: the job can end only if the scheduler takes back the lease of the killed worker
    import threading

    import dask

    scene = write_scene(tmp_path / "scene", 1, 4)
    killer = FakeWebui(0.05, kill_first=1)  # SIGKILLs the worker process that sends its first request
    opts = cluster.ClusterOptions((str(scene),), (killer.url,), str(tmp_path / "out"), backoff=0.05)
    rc: list[int] = []
    short = {
        "distributed.scheduler.locks.lease-timeout": "4s",  # short, yet above a busy worker's refresh gaps
        "distributed.scheduler.locks.lease-validation-interval": "0.2s",
    }
    try:
        with dask.config.set(short):
            job = threading.Thread(
                target=lambda: rc.append(cluster.run_job(opts, {"long_side": 64})), daemon=True
            )
            job.start()
            job.join(90)  # bounded: a lost lease would hang the job
    finally:
        killer.close()
    assert not job.is_alive() and rc == [0], capsys.readouterr().out
    ((pid, when),) = killer.killed
    assert pid != os.getpid() and not psutil_alive(pid)
    keys = [f"Cam0.{f:04d}" for f in range(1, 5)]
    assert sorted(writes) == keys and set(writes.values()) == {1}  # every image written exactly once
    assert len(killer.images) == 4 and all(im["t0"] > when for im in killer.images)  # it served again
    assert killer.most_in_flight == 1
    assert "4 image(s) written, 0 already there, 0 failed, of 4" in capsys.readouterr().out


def psutil_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
