"""The tab's "Generate all cameras" in the acceptance test of issue 9 (tests/test_one_path.py): the
same scene and params through the tab give the same request bodies as the Script, the ``/plan``
route and the CLI.

The tab is driven the way its Generate button drives it (``tab.plans.resolve_tab`` with the loaded
session, the host's facts from the webui, then ``runner.TabHost.run_plan`` per camera, which builds
``p`` and runs ``apply_plan`` on the fake ``modules.*``). What the tab has no control for
(``long_side``, Regional Prompter on/off) comes from Settings, as it does in the webui."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import test_one_path as one

pytest.importorskip("gradio")

from scene_import_a1111.hosts import ControlNetAdapter, RegionalPrompterAdapter

a1111 = one.a1111
entry = one.entry
room = one.room

#: params the tab has a control for; the rest are Settings in the webui
UI_KEYS = ("base_prompt", "negative_prompt", "seed", "ui_prompt", "descriptions")


def tab_bodies(ctx: one.Ctx, folder: str, params: dict[str, Any], settings: dict[str, Any]) -> list[one.Body]:
    from scene_import_a1111 import runner
    from scene_import_a1111.tab import plans
    from scene_import_a1111.tab.load import description_files
    from scene_import_a1111.tab.state import TabSession

    ui = one._as_params({k: v for k, v in params.items() if k in UI_KEYS})
    rest = {k: v for k, v in params.items() if k not in UI_KEYS}
    flat = {".".join([k, *sub]): v for k, v in rest.items() for sub, v in _leaves(v)}
    one._settings(ctx, {**settings, **flat}, folder)
    captured: list[one.Body] = []
    original = runner.apply_plan

    def spy(p, plan, run=None):
        warnings = original(p, plan, run)
        cn, rp = ControlNetAdapter(p.scripts), RegionalPrompterAdapter(p.scripts)
        args = list(p.script_args)
        fields = {k: getattr(p, k) for k in ("prompt", "negative_prompt", "seed", "width", "height")}
        fields.update({k: getattr(plan, k) for k in ("steps", "cfg_scale", "sampler_name")})
        rp_slice = args[rp.script.args_from : rp.script.args_to]
        captured.append(
            one.body(fields, args[cn.script.args_from : cn.script.args_to], rp_slice if rp_slice[0] else None)
        )
        return warnings

    ctx.monkeypatch.setattr(runner, "apply_plan", spy)
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


def _leaves(v: Any) -> list[tuple[list[str], Any]]:
    if isinstance(v, dict):
        return [([k, *sub], x) for k, val in v.items() for sub, x in _leaves(val)]
    return [([], v)]


@pytest.mark.parametrize("case", list(one.CASES))
def test_the_tabs_generate_sends_the_same_request(case, room, a1111, entry, monkeypatch, tmp_path):
    params, settings = one.CASES[case]
    ctx = one.Ctx(a1111, entry, monkeypatch, tmp_path)
    want = one.route_bodies(ctx, room, copy.deepcopy(params), settings)
    got = tab_bodies(ctx, room, copy.deepcopy(params), settings)
    assert len(got) == len(want) == 3
    for mine, ref in zip(got, want, strict=True):
        assert json.dumps(mine, sort_keys=True) == json.dumps(ref, sort_keys=True), case
