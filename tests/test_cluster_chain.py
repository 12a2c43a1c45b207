"""Chained multi-camera runs over several webuis (Dask): per frame, camera k's task depends on the
cameras before it in chain order, and its worker completes the inpaint with lib_scene.chain's
``chain_step``, the single-server chain's function. Real canvases (samples/room: three posed Blender
cameras; tests/scenes.py frames), a real LocalCluster (threads) and fake webuis on 127.0.0.1
(tests/pool_webui.py). Skipped where Dask is not installed (the A1111-pins venv)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import test_cluster
from fake_webui import decode
from PIL import Image
from pool_webui import FakeWebui
from test_cluster import write_scene

from lib_scene.canvas import discover
from lib_scene.cli import main
from lib_scene.jobs import ChainLink, build_tasks
from lib_scene.params import PlanParams

ROOM = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples", "room")
ORDER = ["Cam0", "Cam2", "Cam1"]  # samples/room's nearest-pose order from Cam0

needs_dask = test_cluster.needs_dask
writes = test_cluster.writes  # a fixture: every image the client writes, by task key


@pytest.fixture
def room(tmp_path):
    shutil.copytree(ROOM, tmp_path / "room")
    return tmp_path / "room"


def dask_run(scene, out, servers, params, *extra):
    args = ["run", str(scene), "--out", str(out), "--local-cluster", "threads", "--backoff", "0.05"]
    for s in servers:
        args += ["--webui", s.url]
    return main([*args, "--params", json.dumps(params), *extra])


def requests(servers):
    """Every request the servers answered, in the order they were sent."""
    return sorted((im for s in servers for im in s.images), key=lambda im: im["t0"])


def meta(out, base):
    return json.loads((out / f"{base}.info.json").read_text())["scene_import"]


def test_chained_tasks_per_frame_in_chain_order(tmp_path):
    scene = write_scene(tmp_path / "s", 3, 2)
    tasks = build_tasks(discover([str(scene)]), PlanParams(), chain=["Cam2", "Cam0", "Cam1"])
    assert [t.key for t in tasks] == [f"Cam{c}.{f:04d}" for f in (1, 2) for c in (2, 0, 1)]
    first, second, third = tasks[3:]
    assert first.depends_on == () and first.chain == ChainLink(0, ("Cam2", "Cam0", "Cam1"))
    assert second.depends_on == ("Cam2.0002",) and third.depends_on == ("Cam2.0002", "Cam0.0002")
    assert [k for k, _ in third.chain.before] == ["Cam2.0002", "Cam0.0002"]
    both = build_tasks(
        discover([str(scene)]), PlanParams(), frames_in_order=True, chain=["Cam0", "Cam1", "Cam2"]
    )
    assert both[4].key == "Cam1.0002" and both[4].depends_on == ("Cam1.0001", "Cam0.0002")


@needs_dask
def test_a_chain_over_several_webuis_sends_what_the_single_webui_chain_sends(room, tmp_path, writes, capsys):
    params = {"long_side": 128, "seed": 7}
    one = FakeWebui(0.0)
    try:
        assert main(["run", str(room), "--webui", one.url, "--out", str(tmp_path / "one"), "--chain",
                     "--params", json.dumps(params)]) == 0  # fmt: skip
    finally:
        one.close()
    assert not writes  # (one webui: the plain loop)
    servers = [FakeWebui(0.05), FakeWebui(0.05), FakeWebui(0.05)]
    out = tmp_path / "many"
    try:
        assert dask_run(room, out, servers, params, "--chain") == 0
    finally:
        for s in servers:
            s.close()
    assert "chained: Cam0 > Cam2 > Cam1, per frame" in capsys.readouterr().out
    assert sorted(writes) == sorted(ORDER) and set(writes.values()) == {1}
    sent = requests(servers)
    assert [im["path"] for im in sent] == ["/sdapi/v1/txt2img", "/sdapi/v1/img2img", "/sdapi/v1/img2img"]
    assert [(im["mask"], im["init"]) for im in sent] == [(False, False), (True, True), (True, True)]
    assert [im["body"] for im in sent] == [im["body"] for im in one.images]  # the same requests
    metas = [meta(out, cam) for cam in ORDER]
    for k in range(1, 3):  # camera k's request went out after every earlier camera's answer
        assert metas[k]["requested_at"] >= max(m["answered_at"] for m in metas[:k])
        assert metas[k]["chain"] == {"step": k + 1, "of": 3, "before": ORDER[:k]}
    for name in ["Cam0.png", "Cam2.png", "Cam1.png", "Cam2.warp.png", "Cam2.warp.mask.png", "Cam1.warp.png",
                 "Cam1.warp.mask.png"]:  # fmt: skip
        assert np.array_equal(
            np.asarray(Image.open(out / name)), np.asarray(Image.open(tmp_path / "one" / name))
        )
    assert not (out / "Cam0.warp.png").exists()
    mask = np.asarray(Image.open(out / "Cam1.warp.mask.png"))
    assert mask.max() == 255 and np.array_equal(mask, decode(sent[2]["body"]["mask"]))


@needs_dask
def test_a_chained_sequence_gives_the_same_images_on_one_webui_and_on_several(tmp_path, capsys):
    # both paths walk one task list: per frame, camera k after the cameras before it (with a blend
    # pass), the same requests and the same files
    scene = write_scene(tmp_path / "scene", 3, 2)
    params = {"long_side": 64, "steps": 2, "seed": 3, "chain": {"enabled": True, "blend": 0.2}}
    one = FakeWebui(0.0)
    try:
        assert main(["run", str(scene), "--webui", one.url, "--out", str(tmp_path / "one"), "--params",
                     json.dumps(params)]) == 0  # fmt: skip
    finally:
        one.close()
    assert "chained: Cam0 > Cam1 > Cam2, per frame" in capsys.readouterr().out
    sent_one = [(im["path"][-7:], im["mask"]) for im in one.images]
    assert sent_one == [("txt2img", False)] + [("img2img", True), ("img2img", False)] * 2 + [
        ("txt2img", False)
    ] + [("img2img", True), ("img2img", False)] * 2  # fmt: skip
    servers = [FakeWebui(0.02), FakeWebui(0.02)]
    out = tmp_path / "many"
    try:
        assert dask_run(scene, out, servers, params) == 0
    finally:
        for s in servers:
            s.close()
    assert sorted(json.dumps(im["body"], sort_keys=True) for im in requests(servers)) == sorted(
        json.dumps(im["body"], sort_keys=True) for im in one.images
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "one").iterdir())
    assert {"Cam2.0002.inpaint.png", "Cam2.0002.warp.mask.png", "Cam2.0002.inpaint.infotext.txt"} <= set(
        names
    )
    assert {"Cam0.webp", "Cam0.gif"} & set(names)
    for name in names:
        if name.endswith(".png"):
            assert (out / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
        elif name.endswith(".info.json"):
            keep = ("plan_hash", "camera", "frame", "seed", "chain")
            a, b = (meta(d, name[: -len(".info.json")]) for d in (out, tmp_path / "one"))
            assert {k: a.get(k) for k in keep} == {k: b.get(k) for k in keep}, name


@needs_dask
def test_a_blended_chain_resumes_from_the_images_in_out(room, tmp_path, writes, capsys):
    params = {"long_side": 128, "seed": 7, "chain": {"enabled": True, "blend": 0.3}}
    servers = [FakeWebui(0.02), FakeWebui(0.02)]
    out = tmp_path / "out"
    try:
        assert dask_run(room, out, servers, params) == 0
        first = requests(servers)
        assert [(im["path"][-7:], im["mask"]) for im in first] == [
            ("txt2img", False), ("img2img", True), ("img2img", False), ("img2img", True), ("img2img", False)
        ]  # fmt: skip
        assert {p.name for p in out.glob("*.inpaint.png")} == {"Cam2.inpaint.png", "Cam1.inpaint.png"}
        assert np.array_equal(
            np.asarray(Image.open(out / "Cam2.inpaint.png")), decode(first[2]["body"]["init_images"][0])
        )
        for s in servers:
            s.images.clear()
        writes.clear()

        assert dask_run(room, out, servers, params) == 0  # all there: nothing sent, nothing written
        assert not writes and not requests(servers)
        assert "0 image(s) written, 3 already there" in capsys.readouterr().out

        for p in out.glob("Cam2.*"):  # the middle camera lost: Cam0 is read from --out for it
            p.unlink()
        assert dask_run(room, out, servers, params) == 0
        assert dict(writes) == {"Cam2": 1}  # and Cam1, warped from the same images, is still done
        assert [im["body"] for im in requests(servers)] == [im["body"] for im in first[1:3]]
        for s in servers:
            s.images.clear()
        writes.clear()

        for p in out.glob("Cam1.*"):  # the last camera lost: both before it come from --out
            p.unlink()
        assert dask_run(room, out, servers, params) == 0
        assert dict(writes) == {"Cam1": 1}
        assert [im["body"] for im in requests(servers)] == [im["body"] for im in first[3:]]
    finally:
        for s in servers:
            s.close()


@needs_dask
def test_a_failed_camera_fails_the_cameras_after_it(room, tmp_path, writes, capsys):
    servers = [FakeWebui(0.0, fail_first=100), FakeWebui(0.0, fail_first=100)]
    try:
        rc = dask_run(room, tmp_path / "out", servers, {"long_side": 128}, "--chain", "--retries", "1")
    finally:
        for s in servers:
            s.close()
    text = capsys.readouterr().out
    assert rc == 1 and not writes and sum(s.failures for s in servers) == 2  # only Cam0 was sent
    assert "3 image(s) failed:" in text and "Cam0: " in text and "HTTP 500" in text
    assert "Cam2: depends on Cam0, which failed" in text
    assert "Cam1: depends on Cam0, Cam2, which failed" in text


@needs_dask
def test_a_chain_on_several_webuis_refuses_travel_variations_and_unposed_cameras(room, tmp_path, capsys):
    servers = [FakeWebui(), FakeWebui()]
    try:
        rc = dask_run(room, tmp_path / "out", servers, {"variations": {"count": 2}}, "--chain")
        err = capsys.readouterr().err  # (the one-webui loop's refusal: tests/test_run_resume.py)
        assert rc == 2 and "takes no travel or variations, and variations were given" in err
        rc = dask_run(
            os.path.join(os.path.dirname(ROOM), "room_daz"), tmp_path / "out", servers, {}, "--chain"
        )
        assert rc == 2 and "is a Daz canvas set, which carries no camera pose" in capsys.readouterr().err
    finally:
        for s in servers:
            s.close()
    assert not (tmp_path / "out").exists() and not requests(servers)


@needs_dask
def test_24_chained_images_over_three_faulty_servers_keep_the_chain_order(tmp_path, writes, capsys):
    scene = write_scene(tmp_path / "scene", 4, 6)
    out = tmp_path / "out"
    flaky, dying, slow = FakeWebui(0.05, fail_first=2), FakeWebui(0.05, die_after=3), FakeWebui(0.4)
    servers = [flaky, dying, slow]
    try:
        assert dask_run(scene, out, servers, {"long_side": 64, "steps": 2}, "--chain", "--timeout", "10") == 0
        text = capsys.readouterr().out
        assert "chained: Cam0 > Cam1 > Cam2 > Cam3, per frame" in text
        keys = [f"Cam{c}.{f:04d}" for c in range(4) for f in range(1, 7)]
        assert sorted(writes) == keys and set(writes.values()) == {1}
        made = requests(servers)
        assert len(made) == 24 and all(s.most_in_flight == 1 for s in servers)
        assert sorted((im["path"][-7:], im["mask"], im["init"]) for im in made) == sorted(
            [("txt2img", False, False)] * 6 + [("img2img", True, True)] * 18
        )
        assert dying.dead and len(dying.images) == 3  # (dropped only if 3 more requests found it dead)
        seed = made[0]["seed"]
        for f in range(1, 7):
            metas = [meta(out, f"Cam{c}.{f:04d}") for c in range(4)]
            assert [(m["camera"], m["frame"], m["seed"]) for m in metas] == [
                (f"Cam{c}", f, seed) for c in range(4)
            ]
            for k in range(1, 4):
                assert metas[k]["requested_at"] >= metas[k - 1]["answered_at"]
                assert (out / f"Cam{k}.{f:04d}.warp.mask.png").is_file()
        writes.clear()
        assert dask_run(scene, out, servers, {"long_side": 64, "steps": 2}, "--chain") == 0
        assert not writes and len(requests(servers)) == 24
        assert "0 image(s) written, 24 already there" in capsys.readouterr().out
    finally:
        for s in servers:
            s.close()
