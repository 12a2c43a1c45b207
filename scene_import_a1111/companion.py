"""The always-on companion Script, "Scene Import infotext": Scene Import's infotext for images made
from a payload (``/scene-import/v1/plan``, CLI ``run``) instead of by the dropdown Script.

A1111's API drops a request's ``extra_generation_params``. A payload built for a webui with Scene
Import carries ``alwayson_scripts: {"scene import infotext": {"args": [{key: text}]}}``
(``lib_scene.wire``); the companion's ``process()`` puts the entries that pass
``lib_scene.wire.clean_infotext`` into ``p.extra_generation_params``, so the image's infotext and
PNG parameters name the Scene Import version, camera and params like a dropdown-Script image.

* It has one arg slot (A1111 copies ``min(len(args), slots)`` always-on args) and no visible UI: a
  ``gr.State`` holding None, so a UI generation passes None and the companion does nothing. PNG Info
  never fills it (no ``infotext_fields``).
* It never overrides an entry already there: when the dropdown Script made the plan in this process,
  its entries are the record.
* A bad arg is an honest warning, never a failed generation: A1111 catches every exception of an
  always-on ``process()`` and logs its traceback (modules/scripts.py ``ScriptRunner.process``), so
  the entries that fail the checks are left out with one log line and a comment under the image.
* It never reads a file or takes a path: the arg is text only.
"""

from __future__ import annotations

import logging

from lib_scene.wire import clean_infotext

log = logging.getLogger("scene_import")


def companion_ui() -> list:
    """The companion's one arg slot: a gr.State (nothing shown, not saved to ui-config.json)."""
    import gradio as gr

    return [gr.State(value=None)]


def apply_infotext_arg(p, args: tuple) -> dict[str, str]:
    """The companion's ``process(p, *args)``: add the arg's clean entries to
    ``p.extra_generation_params`` (those already there are kept). Returns the entries added."""
    value = args[0] if args else None
    entries, problems = clean_infotext(value)
    for problem in problems:
        log.warning("Scene Import infotext: left out: %s", problem)
        if hasattr(p, "comment"):
            p.comment(f"Scene Import infotext: left out: {problem}")
    if not entries:
        return {}
    if getattr(p, "extra_generation_params", None) is None:
        p.extra_generation_params = {}
    added = {k: v for k, v in entries.items() if k not in p.extra_generation_params}
    p.extra_generation_params.update(added)
    return added
