"""Callbacks the entry script registers with A1111: routes, settings, the Scene Import tab, and the
PNG Info paste of a Scene Import image."""

from __future__ import annotations

from typing import Any

from . import INFOTEXT_PARAMS, TITLE

#: Regional Prompter's infotext key for its "Active" checkbox (rp.py be62345, infotext_fields).
RP_ACTIVE = "RP Active"


def on_app_started(demo, app) -> None:
    from .depth2img import register_probe
    from .routes import register

    register(app)
    register_probe()  # tests only: a no-op unless SCENE_IMPORT_PROBE_DIR is set


def on_ui_settings() -> None:
    from .settings import register_settings

    register_settings()


def on_ui_tabs() -> list:
    """The Scene Import tab, given a generation host (``runner.TabHost``) and the admin's allowed
    folders (uploads go to the Script's upload store, named by id)."""
    from .runner import TabHost, allowed_roots
    from .tab import build_tab

    made = build_tab(host=TabHost(), allowed_dirs=tuple(allowed_roots()))
    return [(made, "Scene Import", "scene_import")]


def on_cfg_denoiser(params) -> None:
    """Prompt travel and variations move the text conditioning here (see conditioning.py for why
    this callback)."""
    from .conditioning import on_cfg_denoiser as walk

    walk(params)


def on_infotext_pasted(infotext: str, params: dict[str, Any]) -> None:
    """PNG Info / paste of an image made with Scene Import (``params`` as A1111 parsed the infotext;
    edited in place before the paste fields are filled).

    * ``Script: Scene Import`` selects the Script in the dropdown (A1111's ScriptRunner pastes that
      key); images made before it was written carry only ``Scene Import params``, so it is added;
    * Regional Prompter's own ``RP Active: True`` is pasted as False. RP's mask is not in the
      infotext, so RP on its own would run Mask mode on its empty canvas and fail inside rp.py
      (``cv2.error``). The Script draws the mask and rewrites RP's whole slice when it runs, so
      nothing is lost; with the Script switched off, RP stays off instead of failing.
    * The prompt box gets what the Script reads from it. The Script takes the prompt box as the
      base prompt when its params have none, and the infotext's prompt is the whole planned prompt
      (base and every region, BREAK-separated): pasted as is, Generate would put the regions in
      twice. An image whose params have no base prompt (a ``/plan`` payload posted without one, or
      a Script run with an empty prompt box) gets an empty prompt box, and Generate makes the same
      prompt again. ControlNet's own paste leaves its units disabled (it pastes no ``enabled``), so
      ControlNet is not doubled either: the Script writes its units.
    """
    if INFOTEXT_PARAMS not in params:
        return
    params.setdefault("Script", TITLE)
    if str(params.get(RP_ACTIVE, "")).lower() == "true":
        params[RP_ACTIVE] = "False"
    if "Prompt" in params and _base_prompt(params[INFOTEXT_PARAMS]) == "":
        params["Prompt"] = ""


def _base_prompt(text: object) -> str | None:
    """The base prompt in an infotext's params JSON ("" when it has none; None when the params
    cannot be read: the Script then refuses them with its own clear error)."""
    from lib_scene.errors import SceneImportError
    from lib_scene.jsonio import parse_json

    try:
        data = parse_json(str(text), "the pasted params")
    except SceneImportError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("base_prompt")
    return value if isinstance(value, str) and value else ""
