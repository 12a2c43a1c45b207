"""Scene Import's infotext on images made from payloads (issue 14): the wire side (lib_scene.wire:
the companion Script's arg and its checks) and the always-on companion Script "Scene Import infotext"
against the FAKE A1111 (tests/fake_a1111; see test_a1111_glue.py), with the real core planning real
EXRs. The real webui round trip is tests/integration/test_webui_infotext.py."""

from __future__ import annotations

import inspect
import json
import logging

import glue_env as glue
import pytest

from lib_scene.canvas import load_cameras
from lib_scene.jobs import plan_hash
from lib_scene.params import PlanParams
from lib_scene.plan import build_plan
from lib_scene.wire import (
    INFOTEXT_MAX_CHARS,
    INFOTEXT_MAX_KEYS,
    INFOTEXT_SCRIPT,
    clean_infotext,
    infotext_arg,
    is_infotext_key,
    to_payload,
    without_infotext,
)

a1111, entry, scene, _reset, _recorder = glue.a1111, glue.entry, glue.scene, glue._reset, glue._recorder
PARAMS = json.dumps({"camera": "Cam0", "seed": 7})


# --------------------------------------------------------------------------- the wire side


def test_our_keys_and_no_others():
    for key in ("Scene Import", "Scene Import camera", "Scene Import chain blend", "Scene Import frame"):
        assert is_infotext_key(key)
    for key in ("Script", "scene import camera", "Scene Import CAMERA", "Scene Importer", "Scene Import ",
                "Scene Import a b c d", "Scene Import ../x", "Scene Import\ncamera", 7, None):  # fmt: skip
        assert not is_infotext_key(key)


def test_clean_infotext_keeps_good_entries_and_names_every_bad_one():
    assert clean_infotext(None) == ({}, [])  # a UI generation: the arg's default
    good = {"Scene Import": "0.9.0", "Scene Import camera": "Cam0", "Scene Import params": PARAMS}
    assert clean_infotext(good) == (good, [])
    entries, problems = clean_infotext(
        {
            **good,
            "Script": "X/Y/Z plot",
            "Scene Import frame": 3,
            "Scene Import travel": "x" * (INFOTEXT_MAX_CHARS + 1),
            "Scene Import chain": "2/3\n\x00Seed: 1",
        }
    )
    assert entries == {**good, "Scene Import chain": "2/3  Seed: 1"}  # control characters are spaces
    assert len(problems) == 3
    assert "'Script' is not a Scene Import infotext key" in problems[0]
    assert "the value must be text, got int" in problems[1] and "the limit is 65536" in problems[2]


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (["Scene Import", "1"], "must be an object of text entries, got list"),
        ("Scene Import: 1", "got str"),
        (
            {f"Scene Import k{i}": "v" for i in range(INFOTEXT_MAX_KEYS + 1)},
            "has 17 entries; the limit is 16",
        ),
        ({"Scene Import params": "{not json"}, "not valid JSON"),
        ({"Scene Import params": "[1, 2]"}, "must be a JSON object"),
        ({"Scene Import params": "[" * 10000}, "nested"),
    ],
)
def test_clean_infotext_refuses_what_is_not_ours(value, needle):
    entries, problems = clean_infotext(value)
    assert entries == {} and len(problems) == 1 and needle in problems[0], problems


def test_clean_infotext_never_raises_on_any_json():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=30), inner, max_size=4),
        max_leaves=20,
    )
    keys = st.sampled_from(["Scene Import", "Scene Import camera", "Scene Import params", "Script", "x"])

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(json_values | st.dictionaries(keys, json_values | st.text(), max_size=5))
    def check(value):
        entries, problems = clean_infotext(value)
        assert all(is_infotext_key(k) and isinstance(v, str) for k, v in entries.items())
        assert all(isinstance(p, str) for p in problems)

    check()


@pytest.fixture
def plan(tmp_path):
    from scenes import sidecar, write_blender5

    write_blender5(str(tmp_path / "Cam0.exr"))
    (tmp_path / "Cam0.json").write_text(json.dumps(sidecar("Cam0")))
    (cs,) = load_cameras([str(tmp_path / "Cam0.exr")])
    return build_plan(cs, PlanParams(long_side=64, seed=3))


def test_payloads_carry_the_plans_infotext_only_when_asked(plan):
    plain, ours = to_payload(plan), to_payload(plan, infotext=True)
    assert INFOTEXT_SCRIPT not in plain["alwayson_scripts"]
    (arg,) = ours["alwayson_scripts"][INFOTEXT_SCRIPT]["args"]
    assert arg == infotext_arg(plan) == plan.infotext and set(arg) == {
        "Scene Import",
        "Scene Import camera",
        "Scene Import params",
    }
    assert without_infotext(ours) == plain and plan_hash(ours) == plan_hash(plain)
    assert clean_infotext(arg) == (arg, [])  # what we send passes the companion's checks


# --------------------------------------------------------------------------- the companion Script


def registered(module, scripts):
    """A1111's rule (modules/scripts.py ``register_scripts_from_module``, the same in Forge): every
    class in the module's namespace that subclasses ``scripts.Script``."""
    return [c for c in vars(module).values() if inspect.isclass(c) and issubclass(c, scripts.Script)]


def test_the_entry_file_registers_the_dropdown_script_and_the_always_on_companion(a1111, entry):
    scripts = a1111.scripts
    classes = registered(entry, scripts)
    assert {c.__name__ for c in classes} == {"Script", "SceneImportInfotext"}
    companion = entry.SceneImportInfotext()
    assert companion.title().lower() == INFOTEXT_SCRIPT == "scene import infotext"
    assert companion.show(False) is scripts.AlwaysVisible and companion.show(True) is scripts.AlwaysVisible
    assert companion.create_group is False and not companion.infotext_fields  # PNG Info never fills it


def test_the_companions_one_arg_slot_shows_nothing(a1111, entry):
    gr = pytest.importorskip("gradio")
    with gr.Blocks():
        (slot,) = entry.SceneImportInfotext().ui(False)
    assert isinstance(slot, gr.State) and slot.value is None


class Api:
    """A1111's API path for a payload (modules/api/api.py ``init_script_args``): no dropdown script,
    each always-on script's slice overwritten with the first ``min(len(args), slots)`` args; an
    unknown always-on name is a 422."""

    def __init__(self, a1111, entry):
        s = a1111.scripts
        self.cn = _recorder(s, "ControlNet", 3)
        self.rp = _recorder(s, "Regional Prompter", 20)
        self.companion = entry.SceneImportInfotext()
        self.ours = entry.Script()
        defaults = {
            self.cn: [None] * 3,
            self.rp: list(glue.RP_DEFAULTS),
            self.companion: [None],
            self.ours: [""],
        }
        self.runner = s.ScriptRunner([self.cn, self.rp, self.companion], [self.ours], defaults)
        self.a1111 = a1111

    def p(self, payload):
        p = self.a1111.processing.StableDiffusionProcessingTxt2Img(
            **{k: payload[k] for k in ("prompt", "negative_prompt", "seed", "width", "height", "steps")}
        )
        args = self.runner.default_args()
        for name, entry in payload.get("alwayson_scripts", {}).items():
            (script,) = [s for s in self.runner.alwayson_scripts if s.title().lower() == name.lower()] or [
                None
            ]
            assert script is not None, f"422: Script '{name}' not found"
            n = min(script.args_to - script.args_from, len(entry["args"]))
            args[script.args_from : script.args_from + n] = entry["args"][:n]
        p.scripts, p.script_args = self.runner, args
        return p


def test_a_plan_payload_makes_an_image_with_our_infotext(a1111, entry, scene, monkeypatch):
    from scene_import_a1111 import routes

    api = Api(a1111, entry)
    monkeypatch.setattr(a1111.scripts, "scripts_txt2img", api.runner, raising=False)
    files = glue._files(scene, ("Cam0.exr", "Cam0.json"))
    (item,) = routes.plan_response({"files": files, "params": {"long_side": 64}})["plans"]
    payload = item["payload"]
    assert set(payload["alwayson_scripts"]) == {"ControlNet", "Regional Prompter", INFOTEXT_SCRIPT}
    done = a1111.processing.process_images(api.p(payload))
    info = done.infotexts[0]
    assert "Scene Import camera: Cam0" in info and "Scene Import params: {" in info
    assert f"Seed: {payload['seed']}" in info and "Script: " not in info  # no dropdown Script ran
    assert len(api.cn.calls) == 1 and api.rp.calls[-1][0] is True  # ControlNet and RP got theirs too


def test_a_ui_generation_passes_none_and_gets_nothing(a1111, entry):
    api = Api(a1111, entry)
    p = api.p({"prompt": "x", "negative_prompt": "", "seed": 1, "width": 8, "height": 8, "steps": 1})
    a1111.processing.process_images(p)
    assert p.extra_generation_params == {} and p.comments == {}


def test_bad_entries_are_left_out_with_a_warning_never_a_failed_generation(a1111, entry, caplog):
    api = Api(a1111, entry)
    body = {"prompt": "x", "negative_prompt": "", "seed": 1, "width": 8, "height": 8, "steps": 1}
    arg = {"Scene Import camera": "Cam0", "Script": "Scene Import", "Scene Import params": "/etc/passwd"}
    p = api.p({**body, "alwayson_scripts": {INFOTEXT_SCRIPT: {"args": [arg]}}})
    with caplog.at_level(logging.WARNING, logger="scene_import"):
        done = a1111.processing.process_images(p)
    assert p.extra_generation_params == {"Scene Import camera": "Cam0"} and len(done.images) == 1
    assert sum("Scene Import infotext: left out" in r.getMessage() for r in caplog.records) == 2
    assert not any(r.exc_info for r in caplog.records)  # one line each, no traceback
    assert any("'Script' is not a Scene Import infotext key" in c for c in p.comments)


def test_the_dropdown_scripts_own_entries_win(a1111, entry, scene):
    """A request with both the dropdown Script and a companion arg: the Script planned this image
    in-process, so its entries are the record; the companion adds only keys it lacks."""
    api = Api(a1111, entry)
    p = api.p({"prompt": "x", "negative_prompt": "", "seed": 1, "width": 8, "height": 8, "steps": 1})
    p.extra_generation_params = {"Scene Import camera": "Cam1"}
    added = entry.apply_infotext_arg(p, ({"Scene Import camera": "Cam0", "Scene Import chain": "2/3"},))
    assert added == {"Scene Import chain": "2/3"}
    assert p.extra_generation_params == {"Scene Import camera": "Cam1", "Scene Import chain": "2/3"}


# --------------------------------------------------------------------------- PNG Info paste


def _paste(p, done):
    """What A1111 parses from the image's infotext (the entries the glue reads), then our callback."""
    from scene_import_a1111.callbacks import on_infotext_pasted

    params = {"Prompt": p.prompt, "Negative prompt": p.negative_prompt, "Seed": str(p.seed)}
    params.update({k: str(v) for k, v in p.extra_generation_params.items()})
    params["RP Active"] = "True"
    on_infotext_pasted(done.infotexts[0], params)
    return params


@pytest.mark.parametrize("base", ["", "a cosy room"])
def test_png_info_of_a_plan_payload_image_regenerates_it_without_doubling(
    a1111, entry, scene, monkeypatch, base
):
    """An artist pastes an image made from a /plan payload: the Script is selected with the image's
    params, RP is off until the Script runs, and Generate makes the same prompt and seed. The prompt
    box gets what the Script reads: with no base prompt in the params, an empty box (the whole
    pasted BREAK prompt would otherwise become the base prompt and the regions would be doubled)."""
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(scene.parent)]
    api = Api(a1111, entry)
    monkeypatch.setattr(a1111.scripts, "scripts_txt2img", api.runner, raising=False)
    body = {"scene": str(scene), "params": {"long_side": 64, "camera": "Cam0", "base_prompt": base}}
    (item,) = glue_routes().plan_response(body)["plans"]
    made = api.p(item["payload"])
    done = a1111.processing.process_images(made)
    pasted = _paste(made, done)
    assert pasted["Script"] == "Scene Import" and pasted["RP Active"] == "False"
    # the BREAK prompt stays when the Script ignores the box (its params have a base), else empty
    assert pasted["Prompt"] == (made.prompt if base else "")
    env = glue.Env(a1111, entry)  # Send to txt2img, Generate: the dropdown Script with the pasted state
    again = env.p(pasted["Scene Import params"], prompt=pasted["Prompt"], seed=int(pasted["Seed"]))
    env.run(again)
    assert again.prompt == made.prompt and again.prompt.count(" BREAK ") == made.prompt.count(" BREAK ")
    assert again.seed == made.seed and again.extra_generation_params["Script"] == "Scene Import"


def glue_routes():
    from scene_import_a1111 import routes

    return routes
