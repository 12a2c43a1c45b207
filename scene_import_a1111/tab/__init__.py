"""The "Scene Import" tab: an interactive split and region editor with live previews.

``build_tab(host=None, allowed_dirs=(), presets_dir=None, samples_dir=None)``
returns a ``gr.Blocks``. Inside A1111 it is handed to ``script_callbacks.on_ui_tabs``; standalone
(tests, demos) it launches on its own.

The rooms: ``state`` (the per-browser :class:`TabSession`), one builder per section (``load``,
``presets``, ``depth``, ``regions``, ``normal``, ``generate``, ``travel``: each builds its components into a
small dataclass and wires its handlers), ``handlers`` (the guard every handler runs under: the
exception is logged with its traceback to the ``scene_import`` logger and the artist sees one
short message), ``plans`` (the one place plans are asked for) and this module (layout and wiring).

``host`` (optional) runs generations: an object with ``run_plan(plan)`` or a callable
``host(plan)``, given one ``lib_scene.plan.GenerationPlan`` per camera and returning images (a list
of PIL images / arrays, or an object with ``.images``). Without a host the Generate panel says
that generation needs A1111. ``facts`` (optional) returns the host's :class:`plans.Facts`
(default: A1111's Settings > Scene Import and its ControlNet models, read at each use).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import gradio as gr

from .context import Config, Tab
from .depth import build_depth, wire_depth
from .generate import build_generate, wire_chain_preview, wire_generate
from .load import build_load, wire_load
from .normal import build_normal, wire_normal
from .plans import Facts, host_facts
from .presets import build_presets, wire_presets
from .regions import build_regions_panel, wire_regions
from .state import TabSession
from .travel import build_travel, wire_travel
from .view import rows_of as _rows

SCRIPT_TITLE = "Scene Import"


def _default_presets_dir() -> str:
    return os.path.join(os.getcwd(), "scene-import-presets")


def _runner(host: Any) -> Callable[[Any], Any] | None:
    if host is None:
        return None
    run = getattr(host, "run_plan", None)
    if run is not None:
        return run
    return host if callable(host) else None


def _layout(cfg: Config) -> Tab:
    """Build every section in its place; returns the components."""
    sess = gr.State(None)
    with gr.Row(elem_id="scene-import-top"):
        with gr.Column(scale=1, min_width=320, elem_id="scene-import-left"):
            with gr.Group(elem_id="scene-import-load"):
                load = build_load(cfg.allowed, cfg.samples_dir)
            with gr.Group(elem_id="scene-import-presets"):
                presets = build_presets(cfg.presets_dir)
            status = gr.Markdown("", elem_id="scene-import-status")
        with gr.Column(scale=3, elem_id="scene-import-right"), gr.Tabs(elem_id="scene-import-panels"):
            with gr.Tab("Depth", elem_id="scene-import-depth-panel"):
                depth = build_depth()
            with gr.Tab("Regions", elem_id="scene-import-regions-panel") as regions_tab:
                regions = build_regions_panel()
                regions.panel = regions_tab
            with gr.Tab("Normal", elem_id="scene-import-normal-panel") as normal_tab:
                normal = build_normal()
                normal.panel = normal_tab
            with gr.Tab("Generate", elem_id="scene-import-generate-panel"):
                gen = build_generate(cfg.runner is not None)
            with gr.Tab("Travel", elem_id="scene-import-travel-panel"):
                travel = build_travel()
    return Tab(sess, status, load, presets, depth, regions, normal, gen, travel)


def build_tab(
    host: Any = None,
    allowed_dirs: Any = (),
    presets_dir: str | None = None,
    samples_dir: str | None = None,
    facts: Callable[[], Facts] | None = None,
) -> gr.Blocks:
    """Build the tab. ``allowed_dirs``: server folders the artist may open (empty: uploads only).
    ``presets_dir``: where named split presets live. Uploads go to the dropdown Script's upload
    store (``runner.UPLOADS_ROOT``: name checks, size cap, one-day
    cleanup), which "Send to txt2img" names by id. ``samples_dir``: an optional folder offered as
    "open the sample scene"."""
    cfg = Config(
        allowed=tuple(str(a) for a in (allowed_dirs or ())),
        presets_dir=presets_dir or _default_presets_dir(),
        samples_dir=samples_dir,
        runner=_runner(host),
        facts=facts or host_facts,
    )
    with gr.Blocks(analytics_enabled=False) as demo:
        t = _layout(cfg)
        wire_load(t, cfg)
        wire_depth(t)
        wire_presets(t, cfg)
        wire_regions(t, cfg)
        wire_normal(t)
        wire_generate(t, cfg)
        wire_travel(t, cfg)
        wire_chain_preview(t, cfg)
    return demo


__all__ = ["SCRIPT_TITLE", "Facts", "TabSession", "_rows", "build_tab"]
