"""Callbacks the entry script registers with A1111: routes, settings, the Scene Import tab."""

from __future__ import annotations

import inspect
import logging

log = logging.getLogger("scene_import")


def on_app_started(demo, app) -> None:
    from .routes import register

    register(app)


def on_ui_settings() -> None:
    from .settings import register_settings

    register_settings()


def on_ui_tabs() -> list:
    """The Scene Import tab from ``scene_import_a1111.tab.build_tab`` when that module is present,
    given a generation host (``runner.TabHost``), the admin's allowed folders and the upload folder
    the dropdown Script can reopen."""
    try:
        from .tab import build_tab
    except ImportError as exc:
        log.info("Scene Import: no tab (%s)", exc)
        return []
    from .runner import TAB_UPLOADS, TabHost, allowed_roots

    offered = {"host": TabHost(), "allowed_dirs": tuple(allowed_roots()), "upload_dir": TAB_UPLOADS}
    try:
        accepted = inspect.signature(build_tab).parameters
        kwargs = {k: v for k, v in offered.items() if k in accepted}
    except (TypeError, ValueError):
        kwargs = {}
    made = build_tab(**kwargs)
    if isinstance(made, list):
        return made
    if isinstance(made, tuple) and len(made) == 3:
        return [made]
    return [(made, "Scene Import", "scene_import")]
