"""The Presets group: save the current camera's splits under a name, load one, apply to all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import gradio as gr

from lib_scene.errors import SceneImportError
from lib_scene.session import list_presets, load_named, save_named
from scene_import_a1111 import compat

from .context import Config, Tab
from .depth import depth_outputs, render
from .handlers import guard, need
from .state import TabSession
from .view import gr_escape


@dataclass
class PresetsUI:
    name: Any
    overwrite: Any
    save_btn: Any
    listing: Any
    refresh_btn: Any
    load_btn: Any
    all_btn: Any


def build_presets(presets_dir: str) -> PresetsUI:
    gr.Markdown("### Presets", elem_classes=["scene-import-h"])
    with gr.Row():
        name = gr.Textbox(label="Preset name", elem_id="scene-import-preset-name", scale=2)
        overwrite = gr.Checkbox(label="replace existing", value=False, elem_id="scene-import-overwrite")
    save_btn = gr.Button("Save preset", elem_id="scene-import-save-preset")
    with gr.Row():
        listing = gr.Dropdown(
            label="Saved presets",
            choices=list_presets(presets_dir),
            elem_id="scene-import-preset-list",
            scale=3,
        )
        refresh_btn = gr.Button("↻", elem_id="scene-import-refresh-presets", scale=0, min_width=40)
    with gr.Row():
        load_btn = gr.Button("Load preset", elem_id="scene-import-load-preset")
        all_btn = gr.Button("Apply to every camera", elem_id="scene-import-apply-all")
    return PresetsUI(name, overwrite, save_btn, listing, refresh_btn, load_btn, all_btn)


def wire_presets(t: Tab, cfg: Config) -> None:
    p, ok, folder = t.presets, guard(t.status), cfg.presets_dir

    @ok
    def on_save(name: str, replace_ok: bool, s: TabSession | None) -> dict[Any, Any]:
        s = need(s)
        path = save_named(s.state.require_plan(), folder, name, overwrite=bool(replace_ok))
        base = os.path.splitext(os.path.basename(path))[0]
        return {
            t.status: f"Saved preset **{gr_escape(base)}** ({path}).",
            p.listing: gr.update(choices=list_presets(folder), value=base),
            p.overwrite: False,
        }

    @ok
    def on_refresh() -> dict[Any, Any]:
        return {p.listing: gr.update(choices=list_presets(folder))}

    @ok
    def on_load(name: str, s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        if not name:
            raise SceneImportError("choose a saved preset")
        s.state = s.state.with_plan(load_named(folder, name), selected=None)
        return render(t, s, log, f"Loaded preset **{gr_escape(name)}** for camera {s.state.current}.")

    @ok
    def on_apply_all(s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        s.state = s.state.apply_to_all()
        return render(t, s, log, f"The current splits now apply to all {len(s.state.cameras)} cameras.")

    L = t.depth.log_scale
    compat.on(p.save_btn.click, on_save, [p.name, p.overwrite, t.sess], [t.status, p.listing, p.overwrite])
    compat.on(p.refresh_btn.click, on_refresh, [], [p.listing, t.status])
    compat.on(p.load_btn.click, on_load, [p.listing, t.sess, L], depth_outputs(t))
    compat.on(p.all_btn.click, on_apply_all, [t.sess, L], depth_outputs(t))
