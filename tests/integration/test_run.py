"""Opt-in: the CLI ``run`` against a REAL webui at ``SCENE_IMPORT_WEBUI_URL`` (see test_webui.py), the
plain one-server loop and, where Dask distributed is installed, the same job as Dask tasks through
``--scheduler`` (a LocalCluster on 127.0.0.1 started here), then its rerun, which writes nothing.
The scene is ``samples/room`` (or ``SCENE_IMPORT_SAMPLE_DIR``); 64 px, 2 steps, one camera."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from lib_scene.cli import main

URL = os.environ.get("SCENE_IMPORT_WEBUI_URL", "").rstrip("/")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENE = os.environ.get("SCENE_IMPORT_SAMPLE_DIR") or os.path.join(ROOT, "samples", "room")
PARAMS = '{"long_side": 64, "steps": 2}'

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not URL, reason="set SCENE_IMPORT_WEBUI_URL to a running A1111 with ControlNet and RP"
    ),
]


def test_run_one_webui_plain_loop(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", SCENE, "--webui", URL, "--out", str(out), "--camera", "Cam0", "--seed", "77"]
    assert main([*args, "--params", PARAMS]) == 0
    assert (out / "Cam0.png").stat().st_size > 0
    assert "Seed: 77" in (out / "Cam0.infotext.txt").read_text()


def _local_cluster():
    """A one-worker Dask cluster on the loopback (threads, so the test's own process does the work)."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


@pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="Dask distributed is not installed"
)
def test_run_as_dask_tasks_then_resume(tmp_path, capsys):
    out = tmp_path / "out"
    with _local_cluster() as cluster:
        args = ["run", SCENE, "--webui", URL, "--scheduler", cluster.scheduler_address, "--out", str(out)]
        args += ["--camera", "Cam0,Cam1", "--seed", "78", "--params", PARAMS]
        assert main(args) == 0
        for cam in ("Cam0", "Cam1"):
            meta = json.loads((out / f"{cam}.info.json").read_text())["scene_import"]
            assert meta["seed"] == 78 and meta["server"] == URL and len(meta["plan_hash"]) == 64
            assert "Seed: 78" in (out / f"{cam}.infotext.txt").read_text()
        assert "2 image(s) written" in capsys.readouterr().out
        assert main(args) == 0
        assert "0 image(s) written, 2 already there" in capsys.readouterr().out


@pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="Dask distributed is not installed"
)
def test_a_chain_as_dask_tasks_then_resume(tmp_path, capsys):
    # the same chained run the single-webui test makes, as Dask tasks: the inpaints completed on the
    # worker; A1111 keeps the carried pixels outside the mask (feather 0 at 64 px)
    from lib_scene.consistency import read_rgb

    out = tmp_path / "out"
    params = {"long_side": 64, "steps": 1, "chain": {"feather": 0}}
    with _local_cluster() as cluster:
        args = ["run", SCENE, "--webui", URL, "--scheduler", cluster.scheduler_address, "--out", str(out)]
        args += ["--chain", "--seed", "4242", "--params", json.dumps(params)]
        assert main(args) == 0
        assert "chained: Cam0 > Cam2 > Cam1, per frame" in capsys.readouterr().out
        for k, cam in enumerate(("Cam0", "Cam2", "Cam1")):
            info = json.loads((out / f"{cam}.info.json").read_text())
            assert info["scene_import"]["chain"]["step"] == k + 1 and info["seed"] == 4242
            if k == 0:
                assert "Denoising strength" not in info["infotexts"][0]
                continue
            assert "Denoising strength: 0.75" in info["infotexts"][0]
            img, carried = read_rgb(out / f"{cam}.png"), read_rgb(out / f"{cam}.warp.png")
            keep = read_rgb(out / f"{cam}.warp.mask.png")[..., 0] == 0
            assert keep.mean() > 0.2 and (img[keep] == carried[keep]).all(axis=-1).mean() > 0.99
        assert main(args) == 0
        assert "0 image(s) written, 3 already there" in capsys.readouterr().out
