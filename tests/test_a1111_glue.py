"""The A1111 glue against a FAKE of the A1111 module surfaces it touches (tests/fake_a1111/, see its
README); the core (regions, normals, plan) is the real one on real EXRs. gradio / fastapi tests run
only where those packages are installed (e.g. the A1111-pinned venv)."""

from __future__ import annotations

import json
import os
import sys
import types

import glue_env as glue
import numpy as np
import pytest
from glue_env import Env, _files, _png

a1111, entry, scene, _reset = glue.a1111, glue.entry, glue.scene, glue._reset  # the fixtures


# --------------------------------------------------------------------------- the Script


def test_entry_script_registers_a_dropdown_script_and_callbacks(a1111, entry):
    s = entry.Script()
    assert s.title() == "Scene Import" and s.title().lower() == "scene import"
    assert s.show(False) is True and s.show(True) is True  # a dropdown script, not AlwaysVisible
    cb = a1111.script_callbacks.callbacks
    assert entry.on_app_started in cb["app_started"]
    assert entry.on_ui_settings in cb["ui_settings"] and entry.on_ui_tabs in cb["ui_tabs"]
    assert entry.on_cfg_denoiser in cb["cfg_denoiser"]  # prompt travel and variations
    assert entry.on_infotext_pasted in cb["infotext_pasted"]


def test_api_dict_params_drive_controlnet_and_rp(a1111, entry, scene):
    env = Env(a1111, entry)
    p = env.p({"files": _files(scene), "base_prompt": "a room", "long_side": 64, "steps": 2})
    processed = env.run(p)
    assert len(processed.images) == 1 and processed.images[0].size == (64, 48)
    assert (p.width, p.height, p.steps) == (64, 48, 2)
    # ControlNet saw exactly its 3 slots: two dict units and a disabled pad
    units = env.cn.calls[-1]
    assert len(units) == 3 and units[2] == {"enabled": False}
    for u, kind in zip(units[:2], ("depth", "normal"), strict=True):
        assert (
            u["enabled"] is True
            and u["module"] == "none"
            and u["model"] == f"control_v11{'f1p_sd15_depth' if kind == 'depth' else 'p_sd15_normalbae'}"
        )
        assert (u["weight"], u["guidance_end"], u["control_mode"]) == (0.3, 0.5, "Balanced")
        assert _png(u["image"]).size == (64, 48) and _png(u["image"]).mode == "RGB" and "mask" not in u
    # Regional Prompter saw its 20 args, in its slot
    rp = env.rp.calls[-1]
    assert len(rp) == 20 and rp[0] is True and rp[2] == "Mask" and rp[7] == "0.2" and rp[8] is True
    assert rp[11] == "Attention" and _png(rp[16]).size == (64, 48)
    assert p.prompt == "a room BREAK a wooden box BREAK a red ball BREAK a green wall"
    assert isinstance(p.script_args, list) and len(p.script_args) == len(env.runner.inputs)
    assert p.script_args[env.other.args_from] == "other-default"  # later slots untouched
    assert p.extra_generation_params["Scene Import camera"] == "Cam0"
    assert p.extra_generation_params["Script"] == "Scene Import"  # PNG Info selects the Script again
    assert "Scene Import params" in processed.info
    uploads = os.path.join(__import__("tempfile").gettempdir(), "scene-import-uploads")
    assert not [d for d in os.listdir(uploads) if d.startswith("api-")]  # API temp files removed


def test_ui_json_params_and_the_ui_prompt_as_base(a1111, entry, scene):
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(scene.parent)]
    env = Env(a1111, entry)
    p = env.p(
        json.dumps({"scene": str(scene), "camera": "Cam1", "long_side": 64}), prompt="ui words", seed=99
    )
    p.script_args = tuple(p.script_args)  # the UI passes a tuple (modules/txt2img.py)
    env.run(p)
    assert isinstance(p.script_args, list) and env.cn.calls[-1][0]["enabled"] is True
    assert p.prompt.startswith("ui words BREAK ") and p.seed == 99
    assert p.extra_generation_params["Scene Import camera"] == "Cam1"


def test_styles_are_folded_into_the_base_section(a1111, entry, scene):
    env = Env(a1111, entry)
    p = env.p({"files": _files(scene), "long_side": 64}, prompt="room", styles=["film"])
    env.run(p)
    assert p.prompt.startswith("room, film grain BREAK ") and p.styles == []
    assert p.negative_prompt == "blurry"


def test_several_cameras_share_one_seed(a1111, entry, scene):
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(scene.parent)]
    env = Env(a1111, entry)
    p = env.p({"scene": "scene", "long_side": 64})  # relative to an allowed root
    processed = env.run(p)
    assert len(processed.images) == 2 and len(env.cn.calls) == 2 and len(env.rp.calls) == 2
    assert len(set(processed.all_seeds)) == 1 and processed.all_seeds[0] != -1
    assert a1111.shared.state.job_count == 2
    assert (
        "Scene Import camera: Cam0" in processed.infotexts[0]
        and "Scene Import camera: Cam1" in processed.infotexts[1]
    )
    assert p.script_args[env.rp.args_from] is False  # the original p is untouched: copies ran


def test_img2img_uses_the_beauty(a1111, entry, scene):
    env = Env(a1111, entry, img2img=True)
    p = env.p({"files": _files(scene), "long_side": 64}, init_images=[None], denoising_strength=0.75)
    env.run(p)
    img = p.init_images[0]
    assert img.mode == "RGB" and img.size == (64, 48) and p.denoising_strength == 0.52
    assert p.image_mask is None


@pytest.mark.parametrize("host", ["a1111", "forge"])
def test_controlnet_units_for_both_hosts(a1111, entry, scene, monkeypatch, host):
    from scene_import_a1111 import hosts

    monkeypatch.setattr(hosts, "is_forge", lambda: host == "forge")
    env = Env(a1111, entry)
    env.run(env.p({"files": _files(scene), "long_side": 64}))
    units = env.cn.calls[-1]
    assert [u.get("module") for u in units] == (
        ["None", "None", None] if host == "forge" else ["none", "none", None]
    )
    assert len(units) == 3


def test_missing_controlnet_and_rp_still_generate(a1111, entry, scene):
    env = Env(a1111, entry, cn=False, rp=False)
    p = env.p({"files": _files(scene), "base_prompt": "room", "long_side": 64})
    processed = env.run(p)
    assert len(processed.images) == 1
    assert p.prompt == "room, a wooden box, a red ball, a green wall"  # flattened: no BREAK without RP
    assert "ControlNet is not installed" in processed.comments
    assert "Regional Prompter is not installed" in processed.comments


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (
            lambda args, env: args.__delitem__(env.ours.args_from),
            "script_args hold -1 slot",
        ),  # [] -> next default
        (lambda args, env: args.insert(env.ours.args_from, {"x": 1}), "script_args hold +1 slot"),
        (lambda args, env: args.__setitem__(env.ours.args_from, None), "no params (null)"),
        (lambda args, env: args.__setitem__(env.ours.args_from, [1, 2]), "received a list"),
        (lambda args, env: args.__setitem__(env.cn.args_from + 1, "shifted"), "ControlNet's slice"),
        (lambda args, env: args.__setitem__(env.rp.args_from, "Mask"), "Regional Prompter's slice"),
    ],
)
def test_shifted_or_missing_script_args_are_clear_errors(a1111, entry, scene, mutate, needle):
    from lib_scene.errors import SceneImportError

    env = Env(a1111, entry)
    p = env.p({"files": _files(scene)})
    mutate(p.script_args, env)
    with pytest.raises(SceneImportError) as err:
        env.ours.run(p, *p.script_args[env.ours.args_from : env.ours.args_to])
    assert needle in str(err.value)
    assert 'script_name "scene import"' in str(err.value)


def test_no_args_at_all(a1111, entry, scene):
    from lib_scene.errors import SceneImportError

    env = Env(a1111, entry)
    with pytest.raises(SceneImportError, match="received 0 script args"):
        env.ours.run(env.p({}))


def test_deleted_slot_as_a1111_passes_it(a1111, entry, scene):
    """API ``script_args: []``: A1111 slice-assigns [] over the slot, so run() gets the next
    script's default; we are told by the arg-count check."""
    from lib_scene.errors import SceneImportError

    env = Env(a1111, entry)
    p = env.p({})
    a, b = env.ours.args_from, env.ours.args_to
    p.script_args[a:b] = []
    with pytest.raises(SceneImportError, match="-1 slot"):
        env.run(p)


def test_params_errors_and_sources(a1111, entry, scene):
    from lib_scene.errors import SceneImportError
    from lib_scene.params import ParamsError
    from lib_scene.paths import PathNotAllowed

    env = Env(a1111, entry)
    with pytest.raises(ParamsError, match="unknown parameter 'depth_weight'"):
        env.run(env.p({"depth_weight": 0.3}))
    with pytest.raises(ParamsError, match="not valid JSON"):
        env.run(env.p("{oops"))
    with pytest.raises(SceneImportError, match="no canvases"):
        env.run(env.p(""))
    with pytest.raises(PathNotAllowed, match="--scene-import-allowed-dir"):
        env.run(env.p({"scene": str(scene)}))
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(scene / "elsewhere")]
    with pytest.raises(PathNotAllowed, match="outside the folders"):
        env.run(env.p({"scene": str(scene)}))
    with pytest.raises(SceneImportError, match="give one canvas source"):
        env.run(env.p({"scene": "x", "files": _files(scene)}))
    with pytest.raises(SceneImportError, match="no camera 'Cam9'"):
        env.run(env.p({"files": _files(scene), "camera": "Cam9"}))


def test_script_refusals_under_the_api_are_http_errors_with_their_status(a1111, entry, scene):
    fastapi = pytest.importorskip("fastapi")
    from lib_scene.errors import PathNotAllowed

    env = Env(a1111, entry)
    for params, status in (
        ({"scene": str(scene)}, 403),
        ({"depth_weight": 1}, 422),
        ({"files": _files(scene), "camera": "Cam9"}, 404),
    ):
        p = env.p(params)
        p.is_api = True
        with pytest.raises(fastapi.HTTPException) as err:
            env.run(p)
        assert err.value.status_code == status and "Scene Import" not in type(err.value).__module__
        assert err.value.detail == str(err.value.__cause__)
    p = env.p({"scene": str(scene)})  # in the UI the typed error itself reaches the gallery's error box
    with pytest.raises(PathNotAllowed):
        env.run(p)


def test_status_for_walks_the_type_table():
    from lib_scene import errors as E
    from scene_import_a1111.errors import RequestError, RequestTooLarge, status_for

    cases = {
        E.ParamsError(["x"]): 422,
        E.CanvasError("x"): 422,
        E.PlanError("x"): 422,
        E.RegionError("x"): 422,
        E.NotFoundError("x"): 404,
        E.PathNotAllowed("x"): 403,
        E.UploadError("x"): 400,
        E.UploadTooLarge("x"): 413,
        E.HostError("x"): 409,
        RequestError("x"): 400,
        RequestTooLarge("x"): 413,
        E.SceneImportError("x"): 422,
        RuntimeError("bug"): 500,
        AssertionError("bug"): 500,
    }
    assert {type(k).__name__: status_for(k) for k in cases} == {type(k).__name__: v for k, v in cases.items()}


def test_a_plan_made_for_another_host_is_refused_not_rebuilt(a1111, entry, scene):
    """The RP/CN-missing fallback is decided in the plan (host facts); apply_plan never rebuilds it."""
    from lib_scene.errors import HostError
    from scene_import_a1111 import runner

    full = Env(a1111, entry)
    req = runner.ScriptRequest(
        params=runner.PlanParams.from_dict({"long_side": 64, "seed": 1}), files=_files(scene)
    )
    (plan,) = runner.plans_for_request(req, runner.host_facts(full.runner))
    bare = Env(a1111, entry, cn=False, rp=False)
    p = bare.p("")
    with pytest.raises(HostError, match="the plan needs Regional Prompter, which this webui lacks"):
        runner.apply_plan(p, plan)


def test_host_facts_from_the_runner_and_settings(a1111, entry, monkeypatch):
    from scene_import_a1111.runner import host_facts

    env = Env(a1111, entry)
    a1111.shared.opts.data["scene_import_depth_weight"] = 0.45
    facts = host_facts(env.runner)
    assert facts.defaults.depth.weight == 0.45 and facts.controlnet and facts.regional_prompter
    assert (facts.dialect, facts.unit_count) == ("a1111", 3)
    bare = host_facts(Env(a1111, entry, cn=False, rp=False).runner)
    assert not bare.controlnet and not bare.regional_prompter and bare.models is None


def test_settings_defaults_flow_into_plans(a1111, entry, scene):
    from scene_import_a1111.settings import params_from_options, settings_defaults

    a1111.shared.opts.data.update(
        {"scene_import_depth_weight": 0.45, "scene_import_steps": 0, "scene_import_regional_calc": "Latent"}
    )
    d = settings_defaults()
    assert d.depth.weight == 0.45 and d.steps is None and d.regional.calc == "Latent"
    a1111.shared.opts.data["scene_import_normal_weight"] = 9.0
    params, warnings = params_from_options(a1111.shared.opts)
    assert params.normal.weight == 0.3 and "normal.weight" in warnings[0]
    env = Env(a1111, entry)
    env.run(env.p({"files": _files(scene), "long_side": 64, "normal": {"weight": 0.6}}))
    depth, normal = env.cn.calls[-1][:2]
    assert depth["weight"] == 0.45 and normal["weight"] == 0.6  # Settings default, then the request
    assert env.rp.calls[-1][11] == "Latent"


def test_generate_for_the_tab(a1111, entry, scene, monkeypatch):
    from scene_import_a1111 import runner
    from scene_import_a1111.runner import ScriptRequest, generate, plans_for_request

    env = Env(a1111, entry)
    monkeypatch.setattr(a1111.scripts, "scripts_txt2img", env.runner, raising=False)
    req = ScriptRequest(
        params=runner.PlanParams.from_dict({"long_side": 64, "seed": 5}),
        files=_files(scene, ("Cam0.exr", "Cam0.json", "Cam1.exr", "Cam1.json")),
    )
    plans = plans_for_request(req, runner.host_facts())
    processed = generate(plans)
    assert len(processed.images) == 2 and processed.all_seeds == [5, 5]
    assert len(env.cn.calls) == 2 and "scene_import" in a1111.shared.state.jobs


def test_register_settings_makes_one_option_per_default(a1111):
    pytest.importorskip("gradio")
    from scene_import_a1111.settings import register_settings, settings_fields

    register_settings()
    labels = a1111.shared.opts.data_labels
    keys = [k for k, *_ in settings_fields()]
    assert set(keys) <= set(labels) and "scene_import_depth_weight" in labels
    assert labels["scene_import_depth_weight"].section == ("scene_import", "Scene Import")
    assert labels["scene_import_depth_weight"].default == 0.3
    assert labels["scene_import_regional_mode"].component_args == {"choices": ["Mask"]}
    assert "scene_import_scene" not in labels  # per-request values are not Settings


# --------------------------------------------------------------------------- UI helpers


def test_ui_json_editing_helpers():
    from lib_scene.params import PlanParams
    from scene_import_a1111.ui import CONTROLS, control_values, set_key

    text = set_key("", "depth.weight", 0.5)
    text = set_key(text, "scene", "  ")
    text = set_key(text, "regional.use_base", False)
    assert json.loads(text) == {"depth": {"weight": 0.5}, "regional": {"use_base": False}}
    assert json.loads(set_key("not json", "camera", "Cam1")) == {"camera": "Cam1"}
    values = dict(zip([c[0] for c in CONTROLS], control_values(text, PlanParams()), strict=True))
    assert (
        values["depth.weight"] == 0.5 and values["regional.use_base"] is False and values["long_side"] == 512
    )
    assert values["scene"] == ""
    assert control_values('{"zz": 1}', PlanParams()) == [None] * len(CONTROLS)


def test_script_ui_returns_one_hidden_params_box(a1111):
    gr = pytest.importorskip("gradio")
    from scene_import_a1111.ui import build_script_ui

    with gr.Blocks():
        box_t = build_script_ui(False)
        box_i = build_script_ui(True)
    assert isinstance(box_t, gr.Textbox) and box_t.elem_id == "scene-import-params-txt2img"
    assert box_i.elem_id == "scene-import-params-img2img" and box_t.visible is False


# --------------------------------------------------------------------------- hosts get no arrays, lazy lookups, UI events


def test_glue_never_gives_np_arrays_to_hosts(a1111, entry, scene):
    env = Env(a1111, entry)
    env.run(env.p({"files": _files(scene), "long_side": 64}))
    json.dumps(env.cn.calls[-1]) and json.dumps(env.rp.calls[-1])  # plain JSON values only
    assert not any(isinstance(x, np.ndarray) for x in env.rp.calls[-1])


def test_controlnet_models_are_looked_up_lazily(a1111, entry, monkeypatch):
    from scene_import_a1111 import hosts

    env = Env(a1111, entry)
    cn = hosts.ControlNetAdapter(env.runner)
    monkeypatch.setattr(cn, "forge", False)
    for name in [n for n in sys.modules if n.endswith("external_code")]:
        monkeypatch.delitem(sys.modules, name)
    assert cn.models() is None
    ec = types.ModuleType("internal_controlnet.external_code")
    ec.get_models = lambda update=False: ["None", "control_v11f1p_sd15_depth [1dd603f7]"]
    monkeypatch.setitem(sys.modules, "internal_controlnet.external_code", ec)
    assert cn.models() == ["control_v11f1p_sd15_depth [1dd603f7]"]
    monkeypatch.delitem(sys.modules, "internal_controlnet.external_code")
    gs = types.ModuleType("lib_controlnet.global_state")
    gs.controlnet_names = ["None", "control_v11p_sd15_normalbae [316696f1]"]
    monkeypatch.setitem(sys.modules, "lib_controlnet.global_state", gs)
    monkeypatch.setattr(cn, "forge", True)
    assert cn.models() == ["control_v11p_sd15_normalbae [316696f1]"] and cn.host == "forge"
    assert cn.slots == 3 and hosts.RegionalPrompterAdapter(env.runner).slots == 20


def test_script_ui_events_edit_the_params_json(a1111, scene, tmp_path):
    gr = pytest.importorskip("gradio")
    from scene_import_a1111 import runner
    from scene_import_a1111.ui import CONTROLS, build_script_ui

    with gr.Blocks() as demo:
        box = build_script_ui(True)
    fns = {}
    for fn, dep in zip(demo.fns, demo.dependencies, strict=True):
        fns.setdefault((fn.name, dep["trigger"]), []).append((fn, dep))
    # the depth-weight slider's .input writes depth.weight; the scene box clears an upload
    updates = fns[("update", "input")]
    by_id = {demo.blocks[dep["targets"][0]].elem_id: fn.fn for fn, dep in updates}
    text = by_id["scene-import-depth-weight-img2img"]("", 0.4)
    assert json.loads(text) == {"depth": {"weight": 0.4}}
    ((upload, _),) = fns[("on_script_upload", "upload")]
    files = [types.SimpleNamespace(name=str(scene / n)) for n in ("Cam0.exr", "Cam0.json")]
    text, status = upload.fn(text, files)
    uid = json.loads(text)["upload"]
    assert sorted(os.listdir(runner.upload_dir(uid))) == ["Cam0.exr", "Cam0.json"] and "Cam0.exr" in status
    text = by_id["scene-import-scene-img2img"](text, "room")
    assert "upload" not in json.loads(text) and json.loads(text)["scene"] == "room"
    # the params box's .change moves the visible controls to what it holds (e.g. after "Send to")
    ((follow, dep),) = fns[("follow", "change")]
    assert demo.blocks[dep["targets"][0]] is box
    shown = follow.fn(json.dumps({"depth": {"weight": 0.7}, "denoise": 0.4}))
    assert len(shown) == len(CONTROLS)  # img2img shows every control, denoise included
    values = [u.get("value") for u in shown]
    assert 0.7 in values and 0.4 in values
    req = runner.parse_request(json.dumps({"upload": uid, "long_side": 64}))
    assert len(runner.plans_for_request(req, runner.host_facts())) == 1


def test_a_unit_the_user_enabled_is_kept_after_ours(a1111, entry, scene):
    from lib_scene.errors import HostError

    env = Env(a1111, entry)
    p = env.p({"files": _files(scene), "long_side": 64})
    pose = {"enabled": True, "module": "openpose", "model": "control_v11p_sd15_openpose [cab727d4]"}
    p.script_args[env.cn.args_from] = pose  # pose is left to the user
    processed = env.run(p)
    units = env.cn.calls[-1]
    assert [u.get("module") for u in units] == ["none", "none", "openpose"] and units[2] == pose
    assert "kept 1 ControlNet unit(s) you enabled" in processed.comments
    p = env.p({"files": _files(scene), "long_side": 64})
    p.script_args[env.cn.args_from] = pose
    p.script_args[env.cn.args_from + 1] = types.SimpleNamespace(enabled=True, module="canny")
    with pytest.raises(HostError, match="needs 2 ControlNet units and 2 more are enabled by you"):
        env.run(p)


def test_the_tab_gets_a_generation_host(a1111, entry, scene, monkeypatch):
    from dataclasses import replace

    from lib_scene.plan import PlanError
    from scene_import_a1111 import callbacks, runner

    got = {}

    def build_tab(host=None, allowed_dirs=(), presets_dir=None):
        got.update(host=host, allowed_dirs=allowed_dirs)
        return "BLOCKS"

    tab = types.ModuleType("scene_import_a1111.tab")
    tab.build_tab = build_tab
    monkeypatch.setitem(sys.modules, "scene_import_a1111.tab", tab)
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(scene.parent)]
    assert callbacks.on_ui_tabs() == [("BLOCKS", "Scene Import", "scene_import")]
    assert got["allowed_dirs"] == (str(scene.parent),)
    # the host generates the tab's plans (one seed for a list)
    env = Env(a1111, entry)
    monkeypatch.setattr(a1111.scripts, "scripts_txt2img", env.runner, raising=False)
    req = runner.ScriptRequest(params=runner.PlanParams.from_dict({"long_side": 64}), files=_files(scene))
    (plan,) = runner.plans_for_request(req, runner.host_facts())
    assert len(got["host"].run_plan(plan).images) == 1 and env.cn.calls
    # a prompt replaced so it no longer matches the mask is refused before generating
    with pytest.raises(PlanError, match="BREAK sections do not match"):
        got["host"].run_plan(replace(plan, prompt=plan.prompt + " BREAK extra"))
