"""The Normal panel: the camera's normal map in the chosen convention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from lib_scene.normals import normal_map
from scene_import_a1111 import compat

from .context import Tab
from .handlers import guard, need
from .state import TabSession


@dataclass
class NormalUI:
    convention: Any
    image: Any
    message: Any
    panel: Any = None  # the gr.Tab (set by the caller)


def build_normal() -> NormalUI:
    convention = gr.Radio(
        ["bae", "midas"],
        value="bae",
        label="Convention (bae: ControlNet 1.1 normalbae; midas: 1.0)",
        elem_id="scene-import-convention",
    )
    image = compat.image(label="Normal map", elem_id="scene-import-normal")
    message = gr.Markdown("", elem_id="scene-import-normal-msg")
    return NormalUI(convention, image, message)


def wire_normal(t: Tab) -> None:
    n, ok = t.normal, guard(t.status)

    @ok
    def on_normal(conv: str, s: TabSession | None) -> dict[Any, Any]:
        s = need(s)
        cs = s.canvas()
        if cs.normal is None:
            return {n.image: None, n.message: f"Camera {cs.camera} has no normal canvas."}
        s.state = s.state.with_settings(convention=conv)
        nm = normal_map(cs, convention=conv, sidecar=cs.sidecar)
        return {
            t.sess: s,
            n.image: s.preview().grid.sample(nm),
            n.message: f"{conv} convention, {cs.width}x{cs.height}.",
        }

    outs = [t.sess, n.image, n.message, t.status]
    if n.panel is not None:
        compat.on(n.panel.select, on_normal, [n.convention, t.sess], outs)
    compat.on(n.convention.change, on_normal, [n.convention, t.sess], outs)
