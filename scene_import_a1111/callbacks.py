"""Callbacks the entry script registers with A1111: routes, settings, the Scene Import tab."""

from __future__ import annotations


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
