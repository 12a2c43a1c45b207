"""The tab's Python side without a browser: it builds, a session loads real EXRs, bad files are
reported by name without breaking the rest, uploads go through the Script's upload store, the
plans come from the real core with the host's Settings defaults and models, one seed for every
camera and the artist's prompt verbatim. Needs gradio (skipped without it)."""

import json
import logging
import os
import random
import shutil

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from lib_scene.errors import SceneImportError  # noqa: E402
from lib_scene.params import PlanParams  # noqa: E402
from lib_scene.paths import UploadError  # noqa: E402
from lib_scene.plan import PlanError  # noqa: E402
from scene_import_a1111 import compat, runner  # noqa: E402
from scene_import_a1111.tab import TabSession, _rows, build_tab, handlers, plans  # noqa: E402
from scene_import_a1111.tab.state import replace_session  # noqa: E402

MODELS = ("control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_normalbae [316696f1]")


def _scene(folder, n=2):
    from scenes import sidecar, write_blender5

    os.makedirs(folder, exist_ok=True)
    for k in range(n):
        write_blender5(os.path.join(folder, f"Cam{k}.exr"))
        with open(os.path.join(folder, f"Cam{k}.json"), "w") as fh:
            json.dump(sidecar(f"Cam{k}"), fh)
    return folder


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    root = tmp_path / "uploads"
    monkeypatch.setattr(runner, "UPLOADS_ROOT", str(root))
    return root


@pytest.fixture
def loaded(tmp_path):
    folder = _scene(str(tmp_path / "scene"))
    s = TabSession()
    s.load([folder], folder=folder)
    return s


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
        "scene-import-prompt",
        "scene-import-region-table",
    ):
        assert needed in ids
    assert all(i.startswith("scene-import-") for i in ids if i)
    seed = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "scene-import-seed")
    assert seed.value == -1  # -1: one random seed for every camera, as everywhere else


def test_session_loads_cameras_and_reports_bad_files(tmp_path):
    folder = _scene(str(tmp_path / "scene"))
    with open(os.path.join(folder, "Broken.exr"), "wb") as fh:
        fh.write(b"not an exr")
    s = TabSession()
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


def _gradio_uploads(tmp_path, folder, names):
    """gradio keeps each upload in its own temp folder."""
    ups = []
    for n in names:
        d = tmp_path / ("u-" + n)
        d.mkdir(exist_ok=True)
        shutil.copyfile(os.path.join(folder, n), d / n)
        ups.append(str(d / n))
    return ups


def test_uploads_go_through_the_scripts_upload_store(tmp_path, uploads, monkeypatch):
    folder = _scene(str(tmp_path / "scene"))
    s = TabSession()
    dest = s.stage(_gradio_uploads(tmp_path, folder, ("Cam0.exr", "Cam0.json")))
    # the Script's store: an upload id the Script reopens, under its root
    assert os.path.dirname(dest) == str(uploads) and dest == runner.upload_dir(s.upload_id)
    s.load([dest], folder=dest)
    assert s.canvas().sidecar is not None and s.canvas().sidecar["camera"] == "Cam0"
    # Send to txt2img names the upload by id, not by a server path
    d = plans.tab_params(s, "txt2img", -1, "", "")
    assert d["upload"] == s.upload_id and "scene" not in d
    assert runner.parse_request(json.dumps(d)).upload == s.upload_id
    # a new scene replaces the old one: its staged folder is removed
    s2 = TabSession()
    dest2 = s2.stage(_gradio_uploads(tmp_path, folder, ("Cam1.exr", "Cam1.json")))
    assert replace_session(s, s2) is s2
    assert not os.path.exists(dest) and os.path.isdir(dest2)


def test_uploads_are_size_capped_and_name_checked(tmp_path, uploads, monkeypatch):
    folder = _scene(str(tmp_path / "scene"), n=1)
    monkeypatch.setattr(runner, "max_upload_bytes", lambda: 100)
    with pytest.raises(UploadError, match="exceed the limit"):
        TabSession().stage(_gradio_uploads(tmp_path, folder, ("Cam0.exr",)))
    monkeypatch.undo()
    monkeypatch.setattr(runner, "UPLOADS_ROOT", str(uploads))
    bad = tmp_path / "x" / "bad;name.exr"
    bad.parent.mkdir()
    bad.write_bytes(b"x")
    with pytest.raises(UploadError, match="not allowed"):
        TabSession().stage([str(bad)])


def test_plans_use_the_settings_defaults_and_the_host_models(loaded):
    defaults = PlanParams.from_dict({"depth": {"weight": 0.45}, "long_side": 64, "steps": 7})
    facts = plans.Facts(defaults=defaults, models=MODELS)
    d = plans.tab_params(loaded, "txt2img", 5, "", "")
    got = plans.resolve_tab(loaded, d, facts)
    assert [p.camera for p in got] == ["Cam0", "Cam1"]
    for p in got:
        depth = next(u for u in p.units if u.kind == "depth")
        assert depth.weight == 0.45 and p.steps == 7 and p.width == 64
        assert {u.model for u in p.units} <= set(MODELS)
    # without the host's models the default names are used
    bare = plans.resolve_tab(loaded, d, plans.Facts(defaults=defaults))[0]
    assert {u.model for u in bare.units}.isdisjoint(MODELS)


def test_host_facts_are_the_webuis_inside_it_and_the_built_ins_standalone(monkeypatch):
    import sys
    import types

    from lib_scene.request import HostFacts

    assert plans.host_facts() == HostFacts()  # standalone: no webui, the built-in defaults
    live = HostFacts(defaults=PlanParams.from_dict({"steps": 9}), models=MODELS, regional_prompter=False)
    monkeypatch.setitem(sys.modules, "modules", types.ModuleType("modules"))
    monkeypatch.setitem(sys.modules, "modules.scripts", types.ModuleType("modules.scripts"))
    monkeypatch.setattr(runner, "host_facts", lambda: live)
    assert plans.host_facts() is live


def test_without_regional_prompter_the_prompt_is_flat(loaded):
    facts = plans.Facts(defaults=PlanParams.from_dict({"long_side": 64}), regional_prompter=False)
    plan = plans.preview(loaded, plans.tab_params(loaded, "txt2img", -1, "", ""), facts)
    assert plan.regional is None and "BREAK" not in plan.prompt
    assert any("Regional Prompter" in w for w in plan.warnings)


def test_one_seed_for_every_camera(loaded):
    facts = plans.Facts(defaults=PlanParams.from_dict({"long_side": 64}))
    d = plans.tab_params(loaded, "txt2img", -1, "", "")
    assert d["seed"] == -1 and plans.seed_value(None) == -1 and plans.seed_value(-7) == -1
    got = plans.resolve_tab(loaded, d, facts, rng=random.Random(3))
    want = random.Random(3).randrange(2**32)
    assert [p.seed for p in got] == [want, want]
    fixed = plans.resolve_tab(loaded, {**d, "seed": 77}, facts)
    assert [p.seed for p in fixed] == [77, 77]


def test_the_preview_is_the_generated_prompt_and_an_edit_is_generated_verbatim(loaded):
    facts = plans.Facts(defaults=PlanParams.from_dict({"long_side": 64}))
    loaded.state = loaded.state.with_settings(base_prompt="(masterpiece:1.2, STANDARD lighting")
    d = plans.tab_params(loaded, "txt2img", 1, "", "")
    shown = plans.preview(loaded, d, facts)
    (generated,) = plans.resolve_tab(loaded, d, facts, cameras=["Cam0"])
    assert shown.prompt == generated.prompt and generated.regional is not None
    assert shown.prompt.startswith("\\(masterpiece:1.2, STandARD lighting")  # the one sanitiser
    sections = shown.prompt.split(" BREAK ")
    edited = " BREAK ".join(["my own base, (weights:1.3)", *[f"thing {k}" for k in range(len(sections) - 1)]])
    (plan,) = plans.resolve_tab(loaded, d, facts, cameras=["Cam0"], prompts={"Cam0": edited})
    assert plan.prompt == edited
    # Cam1 has no typed prompt: the assembled one
    got = plans.resolve_tab(loaded, d, facts, prompts={"Cam0": edited})
    assert got[0].prompt == edited and got[1].prompt != edited
    # a BREAK count that does not fit the regions is refused with the counts named
    with pytest.raises(PlanError, match="sections, but"):
        plans.resolve_tab(loaded, d, facts, cameras=["Cam0"], prompts={"Cam0": "just one section"})


def test_send_params_carry_the_prompt_and_are_checked(loaded):
    from scene_import_a1111.tab.context import Config
    from scene_import_a1111.tab.generate import send_params

    facts = plans.Facts(defaults=PlanParams.from_dict({"long_side": 64}))
    cfg = Config((), "", None, None, lambda: facts)
    shown = plans.preview(loaded, plans.tab_params(loaded, "txt2img", -1, "", ""), facts).prompt
    typed = shown.replace(" BREAK ", " BREAK  ", 1)
    d = send_params(cfg, loaded, "txt2img", -1, "", typed)
    assert d["prompt"] == typed and d["seed"] == -1 and d["camera"] == "Cam0"
    with pytest.raises(PlanError, match="does not fit the regions"):
        send_params(cfg, loaded, "txt2img", -1, "", "one BREAK two")


def test_the_guard_logs_the_traceback_and_shows_a_short_message(caplog):
    status = object()

    @handlers.guard(status)
    def on_thing(x):
        return {"ok": 1 / x}

    with caplog.at_level(logging.ERROR, logger="scene_import"):
        out = on_thing(0)
    assert out == {status: "⚠ ZeroDivisionError: division by zero (details in the server log)"}
    (rec,) = [r for r in caplog.records if r.name == "scene_import"]
    assert rec.exc_info is not None and "on_thing" in rec.getMessage()
    assert "Traceback" in caplog.text and "1 / x" in caplog.text
    caplog.clear()

    @handlers.guard(status)
    def on_user_error():
        raise SceneImportError("load a scene first")

    assert on_user_error() == {status: "⚠ load a scene first"}
    assert any(r.exc_info for r in caplog.records)


def test_params_and_rows_helpers():
    assert _rows([[1, 2], [3, 4]]) == [[1, 2], [3, 4]]
    assert _rows({"data": [[1]], "headers": ["a"]}) == [[1]]
    assert _rows(None) == []
    assert compat.file_paths(["/a", None, type("F", (), {"name": "/b"})()]) == ["/a", "/b"]


def test_preview_images_reach_gradio_as_the_same_pixels():
    """gradio 3 gets a PNG file of our encoder (it sends the file's bytes as they are); 4.x the
    array. Either way the browser receives exactly these pixels."""
    import base64
    import io

    from PIL import Image

    rng = np.random.default_rng(5)
    arr = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    value = compat.png_image(arr)
    if compat.IS_GRADIO_4:
        assert value is arr
    else:
        assert isinstance(value, str) and value.endswith(".png")
        url = compat.image().postprocess(value)
        assert url.startswith("data:image/png;base64,")
        got = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
        assert np.array_equal(got, arr)
    assert compat.png_image(None) is None
