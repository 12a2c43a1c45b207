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
    """
    if INFOTEXT_PARAMS not in params:
        return
    params.setdefault("Script", TITLE)
    if str(params.get(RP_ACTIVE, "")).lower() == "true":
        params[RP_ACTIVE] = "False"
