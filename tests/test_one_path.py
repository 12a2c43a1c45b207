"""THE acceptance test of issue 9: one request path.

The same scene (a copy of samples/room) and the same params go through every entry point, and each
gives byte-identical request bodies per camera: prompt, negative prompt, seed, size, the ControlNet
unit dicts with their map pixels (base64 PNG) and Regional Prompter's 20 args with the mask pixels.

* ``script``: the dropdown Script (``runner.run_script`` on the FAKE ``modules.*`` of tests/fake_a1111)
  — what ``apply_plan`` puts on ``p`` and in ControlNet's / Regional Prompter's ``script_args`` slices;
* ``route``: ``POST /scene-import/v1/plan`` (``routes.plan_response``) — its payloads;
* ``cli``: ``scene-import plan`` — its ``<camera>.payload.json``;
* ``tab``: the Scene Import tab's "Generate all cameras" (needs gradio: skipped where it is absent).

Admin Settings (e.g. depth weight 0.45) reach the Script and the route through A1111's Settings
(the fake ``shared.opts``); the CLI, which runs without A1111, is given the same values in
``--params``.

Another entry point is one function ``fn(ctx, folder, params, settings) -> list[body]`` in
``ENTRY_POINTS``; ``body(...)`` / ``body_from_payload`` make the canonical form.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Callable
from typing import Any

import glue_env as glue
import pytest
from conftest import SAMPLES

from lib_scene.cli import main
from lib_scene.params import PlanParams
from lib_scene.wire import API_STEPS
from scene_import_a1111.hosts import ControlNetAdapter, RegionalPrompterAdapter

#: the fake A1111 (tests/fake_a1111) and the entry script, shared with the glue tests
a1111 = glue.a1111
entry = glue.entry

AWKWARD = "(masterpiece:1.2, STANDARD lighting BREAK"
Body = dict[str, Any]


def body(fields: dict[str, Any], units: list[Any], rp: list[Any] | None) -> Body:
    """The canonical request body: generation fields, the enabled ControlNet units, RP's args."""
    return {
        "prompt": fields["prompt"],
        "negative_prompt": fields["negative_prompt"],
        "seed": fields["seed"],
        "width": fields["width"],
        "height": fields["height"],
        # a null steps is the host's UI value on the Script path; an API body carries that default (20)
        # explicitly, since the API's own default is 50 (lib_scene.wire.API_STEPS)
        "steps": API_STEPS if fields.get("steps") is None else fields["steps"],
        "cfg_scale": fields.get("cfg_scale"),
        "sampler_name": fields.get("sampler_name"),
        "controlnet": [u for u in units if isinstance(u, dict) and u.get("enabled")],
        "regional_prompter": rp,
    }


def body_from_payload(payload: dict[str, Any]) -> Body:
    scripts = payload.get("alwayson_scripts", {})
    return body(
        payload,
        scripts.get("ControlNet", {}).get("args", []),
        scripts.get("Regional Prompter", {}).get("args"),
    )


class Ctx:
    """What every entry point of one test case shares: the fake A1111 and the pytest helpers."""

    def __init__(self, a1111, entry, monkeypatch, tmp_path):
        self.a1111, self.entry, self.monkeypatch, self.tmp_path = a1111, entry, monkeypatch, tmp_path


def _settings(ctx: Ctx, settings: dict[str, Any], folder: str) -> glue.Env:
    shared = ctx.a1111.shared
    shared.opts.data.clear()
    shared.opts.data.update({"scene_import_" + k.replace(".", "_"): v for k, v in settings.items()})
    shared.cmd_opts.scene_import_allowed_dir = [os.path.dirname(folder)]
    env = glue.Env(ctx.a1111, ctx.entry)
    ctx.monkeypatch.setattr(ctx.a1111.scripts, "scripts_txt2img", env.runner, raising=False)
    return env


def capture_applied(ctx: Ctx) -> list[Body]:
    """Spy on ``runner.apply_plan``: every plan applied to a ``p`` adds the body ``p`` then carries
    (its fields, ControlNet's and Regional Prompter's ``script_args`` slices)."""
    from scene_import_a1111 import runner

    captured: list[Body] = []
    original = runner.apply_plan

    def spy(p, plan, run=None):
        warnings = original(p, plan, run)
        cn, rp = ControlNetAdapter(p.scripts), RegionalPrompterAdapter(p.scripts)
        args = list(p.script_args)
        fields = {k: getattr(p, k) for k in ("prompt", "negative_prompt", "seed", "width", "height")}
        fields.update({k: getattr(plan, k) for k in ("steps", "cfg_scale", "sampler_name")})
        rp_slice = args[rp.script.args_from : rp.script.args_to]
        captured.append(
            body(fields, args[cn.script.args_from : cn.script.args_to], rp_slice if rp_slice[0] else None)
        )
        return warnings

    ctx.monkeypatch.setattr(runner, "apply_plan", spy)
    return captured


def script_bodies(ctx: Ctx, folder: str, params: dict[str, Any], settings: dict[str, Any]) -> list[Body]:
    env = _settings(ctx, settings, folder)
    captured = capture_applied(ctx)
    ui = dict(params)
    ui_prompt = ui.pop("ui_prompt", "ui prompt")
    p = env.p({**ui, "scene": folder}, prompt=ui_prompt)
    env.run(p)
    return captured


#: params the tab has a control for; the rest are Settings in the webui
TAB_KEYS = ("base_prompt", "negative_prompt", "seed", "ui_prompt", "descriptions")


def tab_bodies(ctx: Ctx, folder: str, params: dict[str, Any], settings: dict[str, Any]) -> list[Body]:
    """The tab's "Generate all cameras", driven the way its button drives it: ``plans.resolve_tab``
    with the loaded session and the webui's facts, then ``runner.TabHost.run_plan`` per camera. What
    the tab has no control for (``long_side``, RP on/off) comes from Settings, as in the webui."""
    pytest.importorskip("gradio")
    from scene_import_a1111 import runner
    from scene_import_a1111.tab import plans
    from scene_import_a1111.tab.load import description_files
    from scene_import_a1111.tab.state import TabSession

    ui = _as_params({k: v for k, v in params.items() if k in TAB_KEYS})
    rest = {k: v for k, v in params.items() if k not in TAB_KEYS}
    _settings(ctx, {**settings, **PlanParams.from_dict(rest).diff()}, folder)
    captured = capture_applied(ctx)
    s = TabSession()
    s.load([folder], folder=folder)
    s.load_descriptions(description_files(folder))
    assert s.descriptions_file == ui.get("descriptions", s.descriptions_file)
    s.state = s.state.with_settings(base_prompt=ui.get("base_prompt", ""))
    d = plans.tab_params(s, "txt2img", ui.get("seed", -1), ui.get("negative_prompt", ""), "")
    host = runner.TabHost()
    for plan in plans.resolve_tab(s, d, plans.host_facts()):
        host.run_plan(plan)
    return captured


def route_bodies(ctx: Ctx, folder: str, params: dict[str, Any], settings: dict[str, Any]) -> list[Body]:
    from scene_import_a1111.routes import plan_response

    _settings(ctx, settings, folder)
    out = plan_response({"scene": folder, "params": _as_params(params)})
    return [body_from_payload(item["payload"]) for item in out["plans"]]


def cli_bodies(ctx: Ctx, folder: str, params: dict[str, Any], settings: dict[str, Any]) -> list[Body]:
    out = ctx.tmp_path / f"cli-{len(os.listdir(ctx.tmp_path))}"
    merged = PlanParams.from_dict({**settings, **_as_params(params)}).diff()
    assert main(["plan", folder, "--out", str(out), "--params", json.dumps(merged)]) == 0
    names = sorted(n for n in os.listdir(out) if n.endswith(".payload.json"))
    return [body_from_payload(json.loads((out / n).read_text())) for n in names]


def _as_params(params: dict[str, Any]) -> dict[str, Any]:
    """The Script takes the base prompt from the UI prompt; the others are given it in params."""
    p = dict(params)
    ui = p.pop("ui_prompt", None)
    if ui is not None:
        p["base_prompt"] = ui
    return p


#: entry point -> fn(ctx, scene folder, params, Settings) -> one canonical body per camera
ENTRY_POINTS: dict[str, Callable[[Ctx, str, dict[str, Any], dict[str, Any]], list[Body]]] = {
    "script": script_bodies,
    "route": route_bodies,
    "cli": cli_bodies,
    "tab": tab_bodies,
}

BASE = {"long_side": 128, "seed": 1234, "descriptions": "descriptions.properties"}
CASES = {
    "plain": ({**BASE, "base_prompt": "a cosy living room"}, {}),
    "awkward base prompt": ({**BASE, "base_prompt": AWKWARD, "negative_prompt": "blurry BREAK"}, {}),
    "awkward UI prompt": ({**BASE, "ui_prompt": AWKWARD}, {}),
    "settings changed": (
        {**BASE, "base_prompt": AWKWARD},
        {"depth.weight": 0.45, "normal.guidance_end": 0.7, "regional.base_ratio": 0.3, "regions.grow": 3},
    ),
    "regional prompter off": (
        {**BASE, "base_prompt": AWKWARD, "regional": {"enabled": False}},
        {"depth.weight": 0.45},
    ),
}


@pytest.fixture
def room(tmp_path) -> str:
    folder = tmp_path / "scenes" / "room"
    shutil.copytree(os.path.join(SAMPLES, "room"), folder)
    return str(folder)


@pytest.mark.parametrize("entry_point", [n for n in ENTRY_POINTS if n != "route"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_entry_point_sends_the_same_request(
    case, entry_point, room, a1111, entry, monkeypatch, tmp_path
):
    """Each entry point against the ``/plan`` route, the same scene, params and Settings."""
    params, settings = CASES[case]
    ctx = Ctx(a1111, entry, monkeypatch, tmp_path)
    ref = route_bodies(ctx, room, copy.deepcopy(params), settings)
    bodies = ENTRY_POINTS[entry_point](ctx, room, copy.deepcopy(params), settings)
    assert len(ref) == 3 and {b["seed"] for b in ref} == {1234}
    assert len(bodies) == len(ref), entry_point
    for mine, want in zip(bodies, ref, strict=True):
        assert json.dumps(mine, sort_keys=True) == json.dumps(want, sort_keys=True), (
            f"{entry_point} differs ({case})"
        )
    first = ref[0]
    if case.startswith("awkward") or case == "settings changed":
        # the one sanitiser: weights and case kept, keywords neutralised as substrings, bracket escaped
        assert first["prompt"].startswith("\\(masterpiece:1.2, STandARD lighting break BREAK ")
    if "regional" in case:
        assert first["regional_prompter"] is None and "BREAK" not in first["prompt"]
    else:
        assert len(first["regional_prompter"]) == 20 and first["regional_prompter"][0] is True
    weights = [u["weight"] for u in first["controlnet"]]
    assert weights == ([0.45, 0.3] if settings.get("depth.weight") else [0.3, 0.3])
