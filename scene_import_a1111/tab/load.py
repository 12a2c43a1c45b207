"""The Load group: upload canvases (through the Script's upload store), open a server folder
inside the admin's allowed folders or the sample scene, pick the camera."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import gradio as gr

from lib_scene.canvas import DAZ_NAME
from lib_scene.errors import SceneImportError
from lib_scene.paths import confined_folder
from lib_scene.session import REGION_COLUMNS
from scene_import_a1111 import compat

from . import regions
from .context import Config, Tab
from .depth import depth_outputs, render
from .handlers import event, guard, need
from .state import DESCRIPTION_EXTS, TabSession, replace_session
from .view import camera_list_md, gr_escape, table


@dataclass
class LoadUI:
    upload: Any
    folder: Any
    open_btn: Any
    sample_btn: Any
    camera: Any
    cam_info: Any


def build_load(allowed: tuple[str, ...], samples_dir: str | None) -> LoadUI:
    gr.Markdown("### Load", elem_classes=["scene-import-h"])
    upload = gr.File(
        label="EXR canvases, sidecars (.json), descriptions (.properties/.txt)",
        file_count="multiple",
        elem_id="scene-import-upload",
    )
    with gr.Row():
        folder = gr.Textbox(
            label="Scene folder on the server",
            placeholder=allowed[0] if allowed else "disabled: no allowed folders",
            interactive=bool(allowed),
            elem_id="scene-import-folder",
            scale=3,
        )
        open_btn = gr.Button("Open", elem_id="scene-import-open", interactive=bool(allowed), scale=1)
    sample_btn = None
    if samples_dir:
        sample_btn = gr.Button("Open the sample scene", elem_id="scene-import-open-sample")
    camera = gr.Dropdown(label="Camera", choices=[], elem_id="scene-import-camera")
    cam_info = gr.Markdown("No scene loaded.", elem_id="scene-import-cameras")
    return LoadUI(upload, folder, open_btn, sample_btn, camera, cam_info)


def camera_outputs(t: Tab) -> list[Any]:
    r, n, g = t.regions, t.normal, t.gen
    return [
        *depth_outputs(t), t.load.camera, t.load.cam_info, t.depth.beauty_img,
        r.overlay_img, r.legend, r.table, r.prompt, r.prompt_ok,
        n.image, n.message, g.params_view, g.params_box,
    ]  # fmt: skip


def _is_daz_sidecar(name: str, exrs: list[str]) -> bool:
    """``<stem>.json`` beside Daz canvases named ``<stem>-CanvasN-Kind.exr``."""
    stem = os.path.splitext(name)[0]
    return any((m := DAZ_NAME.match(e)) is not None and m.group("stem") == stem for e in exrs)


def description_files(folder: str, exts: tuple[str, ...] = (".properties", ".txt")) -> list[str]:
    """The description files in a scene folder (not a camera's sidecar)."""
    names = sorted(os.listdir(folder))
    exrs = [n for n in names if n.lower().endswith(".exr")]
    stems = {os.path.splitext(n)[0] for n in exrs}
    return [
        os.path.join(folder, n)
        for n in names
        if n.lower().endswith(exts) and os.path.splitext(n)[0] not in stems and not _is_daz_sidecar(n, exrs)
    ]


def _cleared_panels(t: Tab) -> dict[Any, Any]:
    r, n = t.regions, t.normal
    return {
        r.overlay_img: None,
        r.legend: "",
        r.table: table(REGION_COLUMNS, []),
        r.prompt: "",
        r.prompt_ok: "",
        n.image: None,
        n.message: "",
    }


def after_load(t: Tab, s: TabSession, problems: list[str], log: bool) -> dict[Any, Any]:
    info_md = camera_list_md([s.summaries[c] for c in s.summaries])
    if s.descriptions_file:
        unused = ", ".join(s.unused_description_files)
        info_md += f"\n\ndescriptions: {gr_escape(s.descriptions_file)}" + (
            f" (also found {gr_escape(unused)}, not used)" if unused else ""
        )
    if problems:
        info_md += "\n\n" + "\n\n".join(f"⚠ {gr_escape(p)}" for p in problems)
        for p in problems:
            compat.warn(p)
    out = render(t, s, log, message=f"Loaded {len(s.state.cameras)} camera(s).")
    out.update(_cleared_panels(t))
    out[t.load.camera] = gr.update(choices=list(s.state.cameras), value=s.state.current)
    out[t.load.cam_info] = info_md
    out[t.depth.beauty_img] = s.preview().base_image()
    return out


def open_folder(
    t: Tab, old: TabSession | None, path: str, roots: tuple[str, ...], log: bool
) -> dict[Any, Any]:
    real = confined_folder(path, roots)
    s = TabSession()
    problems = s.load([real], folder=real)
    problems += s.load_descriptions(description_files(real))
    return after_load(t, replace_session(old, s), problems, log)


def upload_files(t: Tab, old: TabSession | None, files: Any, log: bool) -> dict[Any, Any]:
    paths = compat.file_paths(files)
    if not paths:
        return {t.status: ""}
    s = TabSession()
    dest = s.stage(paths)
    try:
        if not any(n.lower().endswith(".exr") for n in os.listdir(dest)):
            raise SceneImportError("no .exr file among the uploads", paths[0])
        problems = s.load([dest], folder=dest)
        problems += s.load_descriptions(description_files(dest, DESCRIPTION_EXTS))
    except BaseException:
        s.discard()
        raise
    return after_load(t, replace_session(old, s), problems, log)


def switch_camera(t: Tab, cfg: Config, s: TabSession, name: str, log: bool) -> dict[Any, Any]:
    """Show another camera: its depth plan, beauty and (when regions were shown) its regions."""
    had_regions = s.region_result is not None
    s.state = s.state.select_camera(name)
    out = render(t, s, log, f"Camera {name}.")
    out.update(_cleared_panels(t))
    out[t.depth.beauty_img] = s.preview().base_image()
    if had_regions:
        shown = regions.show(t, cfg, s)
        shown[t.status] = f"Camera {name}. {shown[t.status]}".strip()
        out.update(shown)
    return out


def wire_load(t: Tab, cfg: Config) -> None:
    ld, ok, L = t.load, guard(t.status), t.depth.log_scale
    outs = camera_outputs(t)

    @ok
    def on_upload(files: Any, s: TabSession | None, log: bool) -> dict[Any, Any]:
        return upload_files(t, s, files, log)

    @ok
    def on_open(path: str, s: TabSession | None, log: bool) -> dict[Any, Any]:
        return open_folder(t, s, path, cfg.allowed, log)

    @ok
    def on_camera(name: str, s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        if not name or name == s.state.current:
            return {}
        return switch_camera(t, cfg, s, name, log)

    compat.on(event(ld.upload, "upload", "change"), on_upload, [ld.upload, t.sess, L], outs)
    compat.on(ld.open_btn.click, on_open, [ld.folder, t.sess, L], outs)
    compat.on(ld.folder.submit, on_open, [ld.folder, t.sess, L], outs)
    compat.on(event(ld.camera, "select", "change"), on_camera, [ld.camera, t.sess, L], outs)
    samples = cfg.samples_dir
    if ld.sample_btn is not None and samples:

        @ok
        def on_sample(s: TabSession | None, log: bool) -> dict[Any, Any]:
            return open_folder(t, s, samples, (samples,), log)

        compat.on(ld.sample_btn.click, on_sample, [t.sess, L], outs)
