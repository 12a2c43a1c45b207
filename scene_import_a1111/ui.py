"""The dropdown Script's compact UI (gradio 3.41 in A1111; also gradio 4 in Forge).

``build_script_ui`` returns the ONE component that carries the params: a hidden Textbox holding the
params JSON, ``elem_id="scene-import-params-txt2img"`` / ``"-img2img"``. The Scene Import tab's
"Send to" fills it from JavaScript; PNG Info pastes it (infotext key "Scene Import params"). The
visible controls write into it through ``.input``/``.upload`` events (user actions only), and follow it
through its ``.change`` event, so the two never loop.
"""

from __future__ import annotations

import contextlib
import json
import logging

from lib_scene.errors import SceneImportError
from lib_scene.params import REGION_SOURCES, PlanParams

from .runner import store_ui_upload
from .settings import settings_defaults

log = logging.getLogger("scene_import")

# (dotted params key, control kind, label, extra kwargs), one row per tuple; bound one to one
ROWS: tuple[tuple[tuple[str, str, str, dict[str, object]], ...], ...] = (
    (
        ("scene", "text", "…or a server folder (inside an allowed folder)", {}),
        ("camera", "text", "Camera (empty: every camera, one seed)", {}),
    ),
    (
        (
            "splits",
            "text",
            "Split preset: a file in the scene folder, or the tab's splits (empty: automatic)",
            {},
        ),
        ("regions.source", "dropdown", "Region source", {"choices": list(REGION_SOURCES)}),
        ("long_side", "slider", "Long side (px)", {"minimum": 0, "maximum": 2048, "step": 8}),
    ),
    (("base_prompt", "text", "Base prompt (empty: the prompt above, with its styles)", {"lines": 2}),),
    (
        ("depth.weight", "slider", "Depth weight", {"minimum": 0, "maximum": 2, "step": 0.05}),
        ("depth.guidance_end", "slider", "Depth guidance end", {"minimum": 0, "maximum": 1, "step": 0.05}),
        ("normal.weight", "slider", "Normal weight", {"minimum": 0, "maximum": 2, "step": 0.05}),
        ("normal.guidance_end", "slider", "Normal guidance end", {"minimum": 0, "maximum": 1, "step": 0.05}),
    ),
    (
        ("regional.enabled", "checkbox", "Regional Prompter regions", {}),
        ("regional.use_base", "checkbox", "Use base prompt", {}),
        ("regional.base_ratio", "slider", "Base ratio", {"minimum": 0, "maximum": 1, "step": 0.05}),
        (
            "denoise",
            "slider",
            "Denoising strength (beauty as init)",
            {"minimum": 0, "maximum": 1, "step": 0.01},
        ),
    ),
    (
        (
            "chain.enabled",
            "checkbox",
            "Chain cameras (each next camera inpaints what the others painted)",
            {},
        ),
        (
            "chain.denoise",
            "slider",
            "Chain: denoise of the painted area",
            {"minimum": 0, "maximum": 1, "step": 0.01},
        ),
        ("chain.feather", "slider", "Chain: mask blur (px)", {"minimum": 0, "maximum": 64, "step": 1}),
        (
            "chain.blend",
            "slider",
            "Chain: seam blend pass (0: off)",
            {"minimum": 0, "maximum": 1, "step": 0.01},
        ),
    ),
)
CONTROLS = tuple(c for row in ROWS for c in row)


def set_key(text: str, dotted: str, value) -> str:
    """Return the params JSON ``text`` with ``dotted`` set to ``value`` (other keys untouched)."""
    try:
        data = json.loads(text) if text and text.strip() else {}
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if isinstance(value, str) and dotted in ("scene", "camera", "splits") and not value.strip():
        value = None
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return json.dumps(data, sort_keys=True)


def control_values(text: str, defaults: PlanParams) -> list:
    """The value each control should show for the params JSON ``text`` (defaults where absent)."""
    try:
        params = PlanParams.from_json(text, base=defaults)
    except Exception:
        return [None] * len(CONTROLS)
    flat = params.flattened()
    out = []
    for key, kind, _, _ in CONTROLS:
        v = flat.get(key)
        if kind == "text" and not isinstance(v, str):
            v = "" if v is None else json.dumps(v)
        out.append(v)
    return out


def _control(gr, kind: str, label: str, value, eid: str, kw: dict):
    """One gradio control of the Script's UI."""
    if kind == "text":
        return gr.Textbox(label=label, value=value or "", elem_id=eid, **kw)
    if kind == "slider":
        return gr.Slider(label=label, value=value, elem_id=eid, **kw)
    if kind == "checkbox":
        return gr.Checkbox(label=label, value=bool(value), elem_id=eid, **kw)
    return gr.Dropdown(label=label, value=value, allow_custom_value=True, elem_id=eid, **kw)


def _controls(gr, tab: str, is_img2img: bool) -> list:
    """The rows of controls, one per CONTROLS entry (None where a control does not apply)."""
    controls: list = []
    values = iter(control_values("", settings_defaults()))
    for row in ROWS:
        with gr.Row():
            for key, kind, label, kw in row:
                value = next(values)
                if key == "denoise" and not is_img2img:
                    controls.append(None)
                    continue
                eid = f"scene-import-{key.replace('.', '-').replace('_', '-')}-{tab}"
                controls.append(_control(gr, kind, label, value, eid, kw))
    return controls


def _update_key(key: str):
    """The handler that writes one control's value into the params JSON."""

    def update(text, value):
        if key == "splits" and isinstance(value, str) and value.strip().startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        if key == "scene" and isinstance(value, str) and value.strip():
            text = set_key(text, "upload", None)  # one canvas source at a time
        return set_key(text, key, value)

    return update


def on_script_upload(text, uploaded):
    """The Script's file box: store the upload (name checks, size cap) and name it in the params."""
    paths = [getattr(f, "name", f) for f in (uploaded or [])]
    if not paths:
        return set_key(text, "upload", None), ""
    try:
        uid = store_ui_upload(paths)
    except SceneImportError as exc:
        return text, f"**Scene Import:** {exc}"
    except Exception as exc:
        log.exception("Scene Import: storing the Script's upload failed")
        return text, f"**Scene Import:** the upload failed ({type(exc).__name__}); see the server log"
    names = ", ".join(sorted(p.replace("\\", "/").rsplit("/", 1)[-1] for p in paths))
    return set_key(set_key(text, "upload", uid), "scene", None), f"Uploaded: {names}"


def build_script_ui(is_img2img: bool):
    """Build the Script's UI; returns the params Textbox (the Script's only arg component)."""
    import gradio as gr

    tab = "img2img" if is_img2img else "txt2img"
    with gr.Group(elem_id=f"scene-import-script-{tab}"):
        params_box = gr.Textbox(
            value="",
            visible=False,
            label="Scene Import params (JSON)",
            elem_id=f"scene-import-params-{tab}",
        )
        files = gr.File(
            label="Canvases: the camera's EXR files with their .json sidecars",
            file_count="multiple",
            file_types=[".exr", ".json", ".properties", ".txt"],
            elem_id=f"scene-import-files-{tab}",
        )
        controls = _controls(gr, tab, is_img2img)
        status = gr.Markdown("", elem_id=f"scene-import-status-{tab}")

    for (key, _, _, _), comp in zip(CONTROLS, controls, strict=True):
        if comp is not None:
            comp.input(
                fn=_update_key(key), inputs=[params_box, comp], outputs=[params_box], show_progress=False
            )

    files.upload(
        fn=on_script_upload, inputs=[params_box, files], outputs=[params_box, status], show_progress=False
    )
    files.clear(
        fn=lambda text: (set_key(text, "upload", None), ""), inputs=[params_box], outputs=[params_box, status]
    )

    def follow(text):
        values = control_values(text, settings_defaults())
        return [
            gr.update() if v is None else gr.update(value=v)
            for comp, v in zip(controls, values, strict=True)
            if comp is not None
        ]

    params_box.change(
        fn=follow, inputs=[params_box], outputs=[c for c in controls if c is not None], show_progress=False
    )
    return params_box
