"""The tab's Python side without a browser: it builds, a session loads real EXRs, bad files are
reported by name without breaking the rest. Needs gradio (skipped without it)."""

import json
import os
import shutil

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from lib_scene.errors import SceneImportError  # noqa: E402
from scene_import_a1111 import compat  # noqa: E402
from scene_import_a1111.tab import TabSession, _rows, build_tab  # noqa: E402


def _scene(folder):
    from scenes import sidecar, write_blender5

    os.makedirs(folder, exist_ok=True)
    for k in range(2):
        write_blender5(os.path.join(folder, f"Cam{k}.exr"))
        with open(os.path.join(folder, f"Cam{k}.json"), "w") as fh:
            json.dump(sidecar(f"Cam{k}"), fh)
    return folder


def test_builds_with_and_without_host(tmp_path):
    assert isinstance(build_tab(presets_dir=str(tmp_path)), gr.Blocks)
    calls = []
    demo = build_tab(host=lambda plan: calls.append(plan) or [], allowed_dirs=[str(tmp_path)])
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    for needed in (
        "scene-import-splits",
        "scene-import-histogram",
        "scene-import-generate",
        "scene-import-send-txt2img",
    ):
        assert needed in ids
    assert all(i.startswith("scene-import-") for i in ids if i)


def test_session_loads_cameras_and_reports_bad_files(tmp_path):
    folder = _scene(str(tmp_path / "scene"))
    with open(os.path.join(folder, "Broken.exr"), "wb") as fh:
        fh.write(b"not an exr")
    s = TabSession(str(tmp_path / "up"))
    problems = s.load([folder], folder=folder)
    assert s.state.cameras == ("Cam0", "Cam1")
    assert len(problems) == 1 and "Broken.exr" in problems[0]
    pv = s.preview()
    assert pv.shape == (48, 64) and pv.index.hits == int(np.count_nonzero(s.canvas().hit))
    s.state = s.state.edit("add_cut", 5.0)
    assert len(s.state.plan.splits) >= 2
    # only bad files: a clear error naming the file
    bad_only = str(tmp_path / "bad")
    os.makedirs(bad_only)
    with open(os.path.join(bad_only, "Nope.exr"), "wb") as fh:
        fh.write(b"\x00" * 10)
    with pytest.raises(SceneImportError, match="Nope.exr"):
        TabSession().load([bad_only])


def test_uploads_are_staged_next_to_each_other(tmp_path):
    folder = _scene(str(tmp_path / "scene"))
    # gradio keeps each upload in its own temp folder
    ups = []
    for n in ("Cam0.exr", "Cam0.json"):
        d = tmp_path / ("u-" + n)
        d.mkdir()
        shutil.copyfile(os.path.join(folder, n), d / n)
        ups.append(str(d / n))
    s = TabSession(str(tmp_path / "staging"))
    dest = s.stage(ups)
    s.load([dest], folder=dest)
    assert s.canvas().sidecar is not None and s.canvas().sidecar["camera"] == "Cam0"


def test_params_and_rows_helpers():
    assert _rows([[1, 2], [3, 4]]) == [[1, 2], [3, 4]]
    assert _rows({"data": [[1]], "headers": ["a"]}) == [[1]]
    assert _rows(None) == []
    assert compat.file_paths(["/a", None, type("F", (), {"name": "/b"})()]) == ["/a", "/b"]
