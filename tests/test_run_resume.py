"""The single-server ``run`` loop resumes (issue 15) and carries Scene Import's infotext (issue 14):
real EXRs planned by the real core, posted to a loopback fake webui (tests/fake_webui.py).

* a rerun with the same plan writes nothing and says what it skipped; a changed plan regenerates;
* a server failing mid-run ends with the images written and not written, a non-zero exit and no
  partial file; the rerun posts only what is missing, with the job's kept seed;
* a chained run resumes the same way (the cameras done are read back for the ones after them);
  a chained sequence is chained per frame, as over several webuis; a chain with travel or
  variations is refused, as over several webuis;
* payloads carry the companion Script's infotext only for a webui that has Scene Import;
* the single-server path imports neither Dask nor lib_scene.cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from fake_webui import FakeWebui, decode
from PIL import Image
from scenes import sidecar, write_blender5

from lib_scene.cli import main
from lib_scene.jobs import JOB_FILE, existing_hash
from lib_scene.wire import INFOTEXT_SCRIPT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOM = os.path.join(ROOT, "samples", "room")
PARAMS = '{"long_side": 64, "steps": 2}'
STEMS = [f"Cam{c}.{f:04d}" for c in range(2) for f in (1, 2, 3)]


class BrokenWebui(FakeWebui):
    """Answers ``ok`` generations, then breaks: HTTP 500 at once (``hang`` 0: a server that broke
    mid-run) or after ``hang`` seconds, longer than the client waits (a hung server)."""

    def __init__(self, ok: int, hang: float = 0.0, **kw) -> None:
        self.ok, self.hang = ok, hang
        super().__init__(**kw)

    def answer(self, path, body):
        if len(self.posts) >= self.ok:
            self.posts.append((path, body))
            time.sleep(self.hang)
            return 500, {"error": "RuntimeError", "detail": "", "errors": "CUDA out of memory"}
        return super().answer(path, body)


@pytest.fixture
def scene(tmp_path):
    """Two frame-sequence cameras of three frames each (six images)."""
    folder = tmp_path / "scene"
    folder.mkdir()
    for c in range(2):
        for f in (1, 2, 3):
            name = f"Cam{c}_{f:04d}"
            write_blender5(str(folder / f"{name}.exr"))
            (folder / f"{name}.json").write_text(json.dumps(sidecar(name)))
    return folder


@pytest.fixture
def webui():
    w = FakeWebui()
    yield w
    w.close()


def run(scene, out, url, *extra):
    return main(["run", str(scene), "--webui", url, "--out", str(out), "--params", PARAMS, *extra])


def snapshot(folder):
    """name -> (inode, mtime) of every file: a file written again gets a new inode (atomic rename)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


def generated(webui):
    return [b for p, b in webui.posts if p.startswith("/sdapi/")]


def test_a_rerun_with_the_same_plan_writes_nothing_and_says_what_it_skipped(scene, tmp_path, webui, capsys):
    out = tmp_path / "out"
    assert run(scene, out, webui.url) == 0
    first = capsys.readouterr().out
    assert len(generated(webui)) == 6 and "6 image(s) written, 0 already there" in first
    seed = json.loads((out / JOB_FILE).read_text())["seed"]  # -1: drawn once, kept for the job
    assert {b["seed"] for b in generated(webui)} == {seed}
    for stem in STEMS:
        meta = json.loads((out / f"{stem}.info.json").read_text())["scene_import"]
        assert meta["seed"] == seed and meta["server"] == webui.url and len(meta["plan_hash"]) == 64
        assert existing_hash(str(out / stem)) == meta["plan_hash"]
    anims = sorted(p.name for p in out.iterdir() if p.name.endswith((".webp", ".gif")))
    assert [a.rsplit(".", 1)[0] for a in anims] == ["Cam0", "Cam1"]  # each camera's frames, animated
    before = snapshot(out)
    assert run(scene, out, webui.url) == 0
    again = capsys.readouterr().out
    assert len(generated(webui)) == 6, "the rerun posted nothing"
    assert f"resuming the job in {out} with its seed {seed}" in again
    assert "0 image(s) written, 6 already there with the same plan (skipped: " + ", ".join(STEMS) in again
    assert "Cam0.0002: already in" in again and "wrote " not in again
    assert snapshot(out) == before, "no file was written again"


def test_a_changed_plan_is_generated_again(scene, tmp_path, webui, capsys):
    out = tmp_path / "out"
    assert run(scene, out, webui.url, "--seed", "5", "--camera", "Cam0") == 0
    assert run(scene, out, webui.url, "--seed", "6", "--camera", "Cam0") == 0
    assert [b["seed"] for b in generated(webui)] == [5, 5, 5, 6, 6, 6]
    assert "3 image(s) written, 0 already there" in capsys.readouterr().out.rsplit("camera", 1)[-1]


def test_a_server_failing_mid_run_says_what_was_written_and_a_rerun_continues(scene, tmp_path, capsys):
    out = tmp_path / "out"
    broken = BrokenWebui(ok=2)
    try:
        assert run(scene, out, broken.url) == 1  # the server failed: not a usage error
    finally:
        broken.close()
    err = capsys.readouterr().err
    assert "HTTP 500: CUDA out of memory" in err and "the run stopped at Cam0.0003" in err
    assert "written: Cam0.0001, Cam0.0002\n" in err
    assert (
        "not written: Cam0.0003, Cam1.0001, Cam1.0002, Cam1.0003" in err and "rerun the same command" in err
    )
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith((".tmp-", ".bak-"))] and "Cam0.0003.png" not in names
    seed = json.loads((out / JOB_FILE).read_text())["seed"]
    healthy = FakeWebui()  # another server (another URL): the same job, resumed
    try:
        assert run(scene, out, healthy.url) == 0
    finally:
        healthy.close()
    text = capsys.readouterr().out
    assert "4 image(s) written, 2 already there with the same plan (skipped: Cam0.0001, Cam0.0002)" in text
    posted = generated(healthy)
    assert len(posted) == 4 and {b["seed"] for b in posted} == {seed}
    for stem in STEMS:  # every image written exactly once over both runs, each with its frame
        meta = json.loads((out / f"{stem}.info.json").read_text())["scene_import"]
        assert meta["frame"] == int(stem[-4:]) and meta["seed"] == seed
        assert meta["server"] == (broken.url if stem in ("Cam0.0001", "Cam0.0002") else healthy.url)


def test_a_server_that_stops_answering_is_a_clear_failure(scene, tmp_path, capsys):
    hung = BrokenWebui(ok=1, hang=1.5)
    try:
        args = ("--camera", "Cam1", "--seed", "3", "--timeout", "0.5")
        assert run(scene, tmp_path / "out", hung.url, *args) == 1
    finally:
        hung.close()
    err = capsys.readouterr().err
    assert "no answer within 0.5 s" in err and "the run stopped at Cam1.0002" in err
    assert "written: Cam1.0001\n" in err and "not written: Cam1.0002, Cam1.0003" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "Cam1.0001.info.json",
        "Cam1.0001.infotext.txt",
        "Cam1.0001.png",
        JOB_FILE,
    ]


def test_a_chained_run_resumes_from_the_cameras_already_made(tmp_path, webui, capsys):
    scene = tmp_path / "room"
    shutil.copytree(ROOM, scene)
    out = tmp_path / "out"
    chain = json.dumps({"long_side": 64, "seed": 7, "chain": {"enabled": True}})
    args = ["run", str(scene), "--webui", webui.url, "--out", str(out), "--params", chain]
    assert main(args) == 0
    assert len(generated(webui)) == 3
    capsys.readouterr()
    before = snapshot(out)
    assert main(args) == 0
    assert len(generated(webui)) == 3 and snapshot(out) == before  # nothing posted, nothing rewritten
    assert "0 image(s) written, 3 already there" in capsys.readouterr().out
    for name in ("Cam1.png", "Cam1.info.json"):  # the last camera of the chain Cam0 > Cam2 > Cam1
        (out / name).unlink()
    assert main(args) == 0
    assert len(generated(webui)) == 4 and generated(webui)[3] == generated(webui)[2]  # the same request
    assert "1 image(s) written, 2 already there with the same plan (skipped: Cam0, Cam2)" in (
        capsys.readouterr().out
    )


def test_payloads_carry_our_infotext_only_where_the_webui_has_scene_import(scene, tmp_path, capsys):
    plain, ours = FakeWebui(), FakeWebui(infotext=True)
    try:
        for w in (plain, ours):
            args = ("--camera", "Cam0", "--frames", "1-1", "--seed", "4")
            assert run(scene, tmp_path / f"out{w.infotext}", w.url, *args) == 0
    finally:
        plain.close()
        ours.close()
    assert INFOTEXT_SCRIPT not in generated(plain)[0]["alwayson_scripts"]
    entries = generated(ours)[0]["alwayson_scripts"][INFOTEXT_SCRIPT]["args"][0]
    assert entries["Scene Import camera"] == "Cam0", entries
    assert json.loads(entries["Scene Import params"])["long_side"] == 64 and entries["Scene Import frame"]
    text = (tmp_path / "outTrue" / "Cam0.0001.infotext.txt").read_text()
    assert "Scene Import params: " in text and "Scene Import frame: 1" in text
    # the infotext entry is a record of the plan, not part of it: the plan hash is the same
    meta = [json.loads((tmp_path / f"out{x}" / "Cam0.0001.info.json").read_text()) for x in (False, True)]
    assert meta[0]["scene_import"]["plan_hash"] == meta[1]["scene_import"]["plan_hash"]


def test_the_single_server_path_imports_no_dask(scene, tmp_path, webui):
    code = (
        "import sys; from lib_scene.cli import main; "
        f"rc = main(['run', {str(scene)!r}, '--webui', {webui.url!r}, '--out', {str(tmp_path / 'o')!r}, "
        f"'--camera', 'Cam0', '--params', {PARAMS!r}]); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed') "
        "or m in ('lib_scene.cluster', 'lib_scene.cluster_task')]; "
        "print(rc, bad)"
    )
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert got.stdout.strip().splitlines()[-1] == "0 []", got.stdout + got.stderr


def test_a_chained_sequence_is_chained_per_frame_and_resumes(scene, tmp_path, webui, capsys):
    # one webui walks the Dask path's task list: every selected frame is a chain (Cam0 > Cam1)
    out = tmp_path / "out"
    assert run(scene, out, webui.url, "--chain", "--seed", "3") == 0
    assert "chained: Cam0 > Cam1, per frame" in capsys.readouterr().out
    posts = [(p, b) for p, b in webui.posts if p.startswith("/sdapi/")]
    assert [(p, "mask" in b) for p, b in posts] == [
        ("/sdapi/v1/txt2img", False),
        ("/sdapi/v1/img2img", True),
    ] * 3
    for f in (1, 2, 3):
        meta = json.loads((out / f"Cam1.{f:04d}.info.json").read_text())["scene_import"]
        assert (meta["frame"], meta["chain"]) == (f, {"step": 2, "of": 2, "before": ["Cam0"]})
        mask = decode(posts[2 * f - 1][1]["mask"])
        assert np.array_equal(  # (one pose for both cameras: everything is carried)
            mask, np.asarray(Image.open(out / f"Cam1.{f:04d}.warp.mask.png"))
        )
        assert not (out / f"Cam0.{f:04d}.warp.png").exists()
        # the inpaint carries this frame's first camera: its init image holds Cam0's image where kept
        init, first = (
            decode(posts[2 * f - 1][1]["init_images"][0]),
            np.asarray(Image.open(out / f"Cam0.{f:04d}.png")),
        )
        keep = (mask == 0) & (np.asarray(Image.open(out / f"Cam1.{f:04d}.warp.png")).max(axis=-1) > 0)
        assert keep.any() and np.array_equal(init[keep], first[keep])
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".webp", ".gif")) in (
        ["Cam0.webp", "Cam1.webp"],
        ["Cam0.gif", "Cam1.gif"],
    )
    before = snapshot(out)
    assert run(scene, out, webui.url, "--chain", "--seed", "3") == 0
    assert len(generated(webui)) == 6 and snapshot(out) == before
    for p in out.glob("Cam0.0002.*"):  # a lost first camera: made again, and the camera after it,
        p.unlink()  # warped from the same image, is still done
    assert run(scene, out, webui.url, "--chain", "--seed", "3") == 0
    assert generated(webui)[6:] == [posts[2][1]]
    assert "1 image(s) written, 5 already there" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra",
    [
        {"variations": {"count": 2}},
        {"travel": {"keyframes": [{"frame": 0}, {"frame": 2, "base_prompt": "x"}]}},
    ],
)
def test_a_chain_takes_no_travel_or_variations_on_one_webui(scene, tmp_path, webui, capsys, extra):
    # as over several webuis (tests/test_cluster_chain.py): refused before anything is sent or written
    params = json.dumps({"long_side": 64, **extra})
    rc = run(scene, tmp_path / "out", webui.url, "--chain", "--params", params)  # (the last --params)
    err = capsys.readouterr().err
    assert rc == 2 and "a chained run (chain.enabled) takes no travel or variations" in err
    assert f"and {next(iter(extra))} were given" in err
    assert not generated(webui) and not (tmp_path / "out").exists()


class ImagelessWebui(FakeWebui):
    """Answers every generation with 200 and no image."""

    def answer(self, path, body):
        self.posts.append((path, body))
        return 200, {"images": [], "info": "{}"}


def test_an_answer_without_images_is_a_server_failure_and_nothing_is_written(scene, tmp_path, capsys):
    out = tmp_path / "out"
    empty = ImagelessWebui()
    try:
        assert run(scene, out, empty.url) == 1
    finally:
        empty.close()
    err = capsys.readouterr().err
    assert "Cam0.0001: the webui answered without images" in err
    assert not list(out.glob("*.png")) and not list(out.glob("*.info.json"))
