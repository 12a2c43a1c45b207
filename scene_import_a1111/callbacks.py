"""Callbacks the entry script registers with A1111: routes, settings, the Scene Import tab."""

from __future__ import annotations

import logging

log = logging.getLogger("scene_import")


def on_app_started(demo, app) -> None:
    from .routes import register

    register(app)


def on_ui_settings() -> None:
    from .settings import register_settings

    register_settings()


def on_ui_tabs() -> list:
    """The Scene Import tab from ``scene_import_a1111.tab.build_tab`` when that module is present."""
    try:
        from .tab import build_tab
    except ImportError as exc:
        log.info("Scene Import: no tab (%s)", exc)
        return []
    made = build_tab()
    if isinstance(made, list):
        return made
    if isinstance(made, tuple) and len(made) == 3:
        return [made]
    return [(made, "Scene Import", "scene_import")]
