"""The "Scene Import" tab: an interactive split and region editor with live previews.

``build_tab(host=None, allowed_dirs=(), presets_dir=None)`` returns a ``gr.Blocks``. Inside
A1111 it is handed to ``script_callbacks.on_ui_tabs``; standalone (tests, demos) it launches on
its own. All logic lives in ``lib_scene`` (``session``, ``preview``, ``depth``, ``splits``,
``regions``, ``normals``, ``plan``); the handlers here only translate widgets to those calls.

``host`` (optional) runs generations: an object with ``run_plan(plan)`` or a callable
``host(plan)``, given one ``lib_scene.plan.GenerationPlan`` per camera and returning images (a list
of PIL images / arrays, or an object with ``.images``). Without a host the Generate panel says
that generation needs A1111.

Modules of other parts (``lib_scene.regions``, ``lib_scene.normals``, ``lib_scene.plan``) are
imported inside the handlers, so the tab works, with those panels saying "not available", when
they are absent.
"""

from __future__ import annotations

import functools
import json
import os
import random
import tempfile
import threading
from collections import OrderedDict

import gradio as gr

from lib_scene.canvas import CameraSource, CanvasSet, discover, load_camera
from lib_scene.depth import auto_plan
from lib_scene.errors import SceneImportError
from lib_scene.paths import resolve_allowed
from lib_scene.preview import Preview, histogram_image, overlay, prepare, render_depth
from lib_scene.session import (
    REGION_COLUMNS,
    SPLIT_COLUMNS,
    EditorState,
    camera_summary,
    list_presets,
    load_named,
    plan_from_rows,
    prompt_check,
    save_named,
    split_region_rows,
    split_rows,
    stage_uploads,
    zero_levels,
)
from lib_scene.splits import SplitPlan

from . import compat

SCRIPT_TITLE = "Scene Import"
CACHE_CAMERAS = 3
DESCRIPTION_EXTS = (".properties", ".txt", ".json")


def _default_presets_dir() -> str:
    return os.path.join(os.getcwd(), "scene-import-presets")


# --------------------------------------------------------------------------- per-browser-session data


class TabSession:
    """One browser session's scene: camera sources, a small cache of loaded canvases and their
    previews, and the immutable :class:`EditorState`. Lives in a ``gr.State``."""

    def __init__(self, upload_root: str | None = None):
        self.state = EditorState()
        self.sources: dict[str, CameraSource] = {}
        self.summaries: dict[str, dict] = {}
        self.problems: list[str] = []
        self.scene_folder: str | None = None
        self.descriptions = None
        self.description_files: list[str] = []
        self.layout = None
        self.region_result = None
        self.region_key = None
        self._upload_root = upload_root
        self._canvases: OrderedDict[str, CanvasSet] = OrderedDict()
        self._previews: OrderedDict[str, Preview] = OrderedDict()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- loading
    def load(self, paths: list[str], folder: str | None = None) -> list[str]:
        """Discover and load every camera under ``paths``; a camera that fails is reported and
        left out, the others load. Returns the problems."""
        problems: list[str] = []
        sources = discover(paths)
        cams, plans, summaries, src_by = [], {}, {}, {}
        canvases: OrderedDict[str, CanvasSet] = OrderedDict()
        for src in sources:
            try:
                cs = load_camera(src)
            except SceneImportError as exc:
                problems.append(str(exc))
                continue
            except Exception as exc:  # a broken file must never break the tab
                problems.append(f"{next(iter(src.files.values()))}: cannot be read ({exc})")
                continue
            summaries[cs.camera] = camera_summary(cs)
            if cs.depth is None or cs.hit is None or not cs.hit.any():
                why = "no depth canvas" if cs.depth is None else "no pixel of the depth canvas hit anything"
                problems.append(f"{cs.primary_path}: camera {cs.camera!r} has {why}; it cannot be edited")
                continue
            cams.append(cs.camera)
            src_by[cs.camera] = src
            plans[cs.camera] = auto_plan(cs.depth, cs.hit)
            canvases[cs.camera] = cs
            while len(canvases) > CACHE_CAMERAS:
                canvases.popitem(last=False)
        if not cams:
            raise SceneImportError(
                "no camera with a usable depth canvas" + (": " + "; ".join(problems) if problems else ""),
                paths[0] if len(paths) == 1 else None,
            )
        self.sources, self.summaries, self._canvases = src_by, summaries, canvases
        self._previews = OrderedDict()
        self.scene_folder = folder
        self.state = EditorState().loaded(cams, plans)
        self.region_result = self.region_key = None
        self.problems = problems
        return problems

    def load_descriptions(self, files: list[str]) -> list[str]:
        problems = []
        if not files:
            return problems
        try:
            from lib_scene.regions import load_descriptions
        except ImportError:
            return ["description files need lib_scene.regions, which is not available yet"]
        merged = None
        for f in files:
            try:
                d = load_descriptions(f)
            except SceneImportError as exc:
                problems.append(str(exc))
                continue
            merged = d if merged is None else merged.fill_from(d) if hasattr(merged, "fill_from") else merged
        self.descriptions = merged
        self.description_files = files
        return problems

    def canvas(self, camera: str | None = None) -> CanvasSet:
        cam = camera or self.state.current
        if cam is None:
            raise SceneImportError("load a scene first")
        with self._lock:
            cs = self._canvases.get(cam)
            if cs is None:
                cs = load_camera(self.sources[cam])
                self._canvases[cam] = cs
            self._canvases.move_to_end(cam)
            while len(self._canvases) > CACHE_CAMERAS:
                self._canvases.popitem(last=False)
        return cs

    def preview(self, camera: str | None = None) -> Preview:
        cam = camera or self.state.current
        if cam is None:
            raise SceneImportError("load a scene first")
        pv = self._previews.get(cam)
        if pv is None:
            pv = prepare(self.canvas(cam))
            with self._lock:
                self._previews[cam] = pv
                while len(self._previews) > CACHE_CAMERAS:
                    self._previews.popitem(last=False)
        return pv

    def stage(self, paths: list[str]) -> str:
        root = self._upload_root or tempfile.gettempdir()
        os.makedirs(root, exist_ok=True)
        dest = tempfile.mkdtemp(prefix="scene-import-", dir=root)
        stage_uploads(paths, dest)
        return dest


# --------------------------------------------------------------------------- small helpers


def _camera_list_md(rows: list[dict]) -> str:
    """One compact line per camera: what it holds."""
    lines = []
    for r in rows:
        side = f" · sidecar {gr_escape(r['sidecar'])}" if r.get("sidecar") else ""
        lines.append(
            f"**{gr_escape(r['camera'])}** · {r['layout']} · {r['size']} · depth {r['depth']} · "
            f"no-hit {r['no-hit'] or 'n/a'}{side} · passes: {gr_escape(r['passes'])}"
        )
    return "\n\n".join(lines)


def _unit(cs_summary: dict) -> str:
    d = cs_summary.get("depth", "")
    return "cm" if d.endswith("cm") else ""


def _swatch_html(rows: list[dict]) -> str:
    if not rows:
        return "<div class='scene-import-legend'>no regions</div>"
    items = []
    for r in rows:
        c = tuple(r["color"])
        objs = ", ".join(r.get("objects") or [])
        items.append(
            f"<span class='scene-import-swatch' style='background: rgb{c}'></span>"
            f"<b>{r['number']}</b> rgb{c} {gr_escape(objs)}"
        )
    return "<div class='scene-import-legend'>" + "<br>".join(items) + "</div>"


def gr_escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num_or_none(v):
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def _int_or_none(v):
    f = _num_or_none(v)
    return None if f is None else int(round(f))


# --------------------------------------------------------------------------- the builder


def build_tab(
    host=None,
    allowed_dirs=(),
    presets_dir: str | None = None,
    upload_dir: str | None = None,
    samples_dir: str | None = None,
) -> gr.Blocks:
    """Build the tab. ``allowed_dirs``: server folders the artist may open (empty: uploads only).
    ``presets_dir``: where named split presets live. ``upload_dir``: where uploads are gathered
    (inside an allowed root, the dropdown script can reopen them). ``samples_dir``: an optional
    folder offered as "open the sample scene"."""
    presets_dir = presets_dir or _default_presets_dir()
    allowed = tuple(str(a) for a in (allowed_dirs or ()))
    runner = None
    if host is not None:
        runner = getattr(host, "run_plan", None) or (host if callable(host) else None)

    with gr.Blocks(analytics_enabled=False) as demo:
        sess = gr.State(None)
        with gr.Row(elem_id="scene-import-top"):
            # ---------------------------------------------------------------- left column
            with gr.Column(scale=1, min_width=320, elem_id="scene-import-left"):
                with gr.Group(elem_id="scene-import-load"):
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
                        open_btn = gr.Button(
                            "Open", elem_id="scene-import-open", interactive=bool(allowed), scale=1
                        )
                    if samples_dir:
                        sample_btn = gr.Button("Open the sample scene", elem_id="scene-import-open-sample")
                    camera = gr.Dropdown(label="Camera", choices=[], elem_id="scene-import-camera")
                    cam_info = gr.Markdown("No scene loaded.", elem_id="scene-import-cameras")
                with gr.Group(elem_id="scene-import-presets"):
                    gr.Markdown("### Presets", elem_classes=["scene-import-h"])
                    with gr.Row():
                        preset_name = gr.Textbox(
                            label="Preset name", elem_id="scene-import-preset-name", scale=2
                        )
                        overwrite = gr.Checkbox(
                            label="replace existing", value=False, elem_id="scene-import-overwrite"
                        )
                    save_btn = gr.Button("Save preset", elem_id="scene-import-save-preset")
                    with gr.Row():
                        preset_list = gr.Dropdown(
                            label="Saved presets",
                            choices=list_presets(presets_dir),
                            elem_id="scene-import-preset-list",
                            scale=3,
                        )
                        refresh_btn = gr.Button(
                            "↻", elem_id="scene-import-refresh-presets", scale=0, min_width=40
                        )
                    with gr.Row():
                        load_btn = gr.Button("Load preset", elem_id="scene-import-load-preset")
                        all_btn = gr.Button("Apply to every camera", elem_id="scene-import-apply-all")
                status = gr.Markdown("", elem_id="scene-import-status")

            # ---------------------------------------------------------------- right column
            with gr.Column(scale=3, elem_id="scene-import-right"), gr.Tabs(elem_id="scene-import-panels"):
                with gr.Tab("Depth", elem_id="scene-import-depth-panel"):
                    hist = compat.image(
                        label="Depth histogram: splits, boundaries, cutoff (click to add a split)",
                        elem_id="scene-import-histogram",
                        height=240,
                    )
                    with gr.Row():
                        depth_img = compat.image(
                            label="Quantised depth (click: split here)",
                            elem_id="scene-import-depth-preview",
                        )
                        test_img = compat.image(
                            label="Test colours (click: split here)", elem_id="scene-import-test-preview"
                        )
                        beauty_img = compat.image(
                            label="Beauty (click: split here)", elem_id="scene-import-beauty-preview"
                        )
                    usage = gr.Markdown("", elem_id="scene-import-usage")
                    table = compat.dataframe(
                        headers=SPLIT_COLUMNS,
                        datatype=[
                            "number",
                            "number",
                            "number",
                            "number",
                            "str",
                            "number",
                            "str",
                            "str",
                            "str",
                        ],
                        col_count=(len(SPLIT_COLUMNS), "fixed"),
                        row_count=(1, "dynamic"),
                        type="array",
                        interactive=True,
                        label="Splits (edit start/end/levels/label/test/region, then Apply table; Ctrl+Enter)",
                        elem_id="scene-import-splits",
                    )
                    with gr.Row(elem_id="scene-import-split-controls"):
                        split_no = gr.Number(
                            label="Split #", value=0, precision=0, elem_id="scene-import-split-no"
                        )
                        levels_no = gr.Number(
                            label="Levels", value=0, precision=0, elem_id="scene-import-levels"
                        )
                        depth_no = gr.Number(label="Depth", value=None, elem_id="scene-import-depth-value")
                        bound_no = gr.Number(
                            label="Boundary #", value=1, precision=0, elem_id="scene-import-boundary-no"
                        )
                    with gr.Row():
                        add_btn = gr.Button("Add split at depth", elem_id="scene-import-add")
                        move_btn = gr.Button("Move boundary to depth", elem_id="scene-import-move")
                        remove_btn = gr.Button("Remove split", elem_id="scene-import-remove")
                        alloc_btn = gr.Button(
                            "Allocate levels", elem_id="scene-import-allocate", variant="primary"
                        )
                    with gr.Row():
                        method = gr.Radio(
                            ["proportional", "even"],
                            value="proportional",
                            label="Auto-allocate remaining",
                            elem_id="scene-import-alloc-method",
                        )
                        auto_btn = gr.Button("Auto-allocate remaining", elem_id="scene-import-auto-allocate")
                        apply_btn = gr.Button("Apply table", elem_id="scene-import-apply-table")
                        undo_btn = gr.Button("Undo", elem_id="scene-import-undo")
                    with gr.Row():
                        cutoff = gr.Number(
                            label="Cutoff (empty: none)", value=None, elem_id="scene-import-cutoff"
                        )
                        curve = gr.Radio(
                            ["linear", "inverse"],
                            value="inverse",
                            label="Curve",
                            elem_id="scene-import-curve",
                        )
                        log_scale = gr.Checkbox(label="log histogram", value=True, elem_id="scene-import-log")
                        one_btn = gr.Button("Start over: one split", elem_id="scene-import-one-split")
                        autoplan_btn = gr.Button("Automatic plan", elem_id="scene-import-auto-plan")
                        zero_btn = gr.Button("Zero all levels", elem_id="scene-import-zero")

                with gr.Tab("Regions", elem_id="scene-import-regions-panel") as regions_tab:
                    with gr.Row():
                        source = gr.Dropdown(
                            ["auto", "index", "material", "splits"],
                            value="auto",
                            label="Region source (or aov:NAME)",
                            allow_custom_value=True,
                            elem_id="scene-import-region-source",
                        )
                        threshold = gr.Slider(
                            0.0,
                            0.05,
                            value=0.005,
                            step=0.0005,
                            label="Visibility threshold (share of frame)",
                            elem_id="scene-import-threshold",
                        )
                        regions_btn = gr.Button("Build regions", elem_id="scene-import-build-regions")
                    with gr.Row():
                        overlay_img = compat.image(
                            label="Regions over the beauty", elem_id="scene-import-region-overlay"
                        )
                        legend = gr.HTML("", elem_id="scene-import-legend")
                    region_table = compat.dataframe(
                        headers=REGION_COLUMNS,
                        datatype=["number", "str", "str", "number", "str"],
                        col_count=(len(REGION_COLUMNS), "fixed"),
                        type="array",
                        interactive=True,
                        label="Regions (edit the descriptions, then Assemble prompt)",
                        elem_id="scene-import-region-table",
                    )
                    base_prompt = gr.Textbox(
                        label="Base prompt (style, quality)", lines=2, elem_id="scene-import-base-prompt"
                    )
                    assemble_btn = gr.Button("Assemble prompt", elem_id="scene-import-assemble")
                    prompt = gr.Textbox(label="Prompt (editable)", lines=4, elem_id="scene-import-prompt")
                    prompt_ok = gr.Markdown("", elem_id="scene-import-prompt-check")

                with gr.Tab("Normal", elem_id="scene-import-normal-panel") as normal_tab:
                    convention = gr.Radio(
                        ["bae", "midas"],
                        value="bae",
                        label="Convention (bae: ControlNet 1.1 normalbae; midas: 1.0)",
                        elem_id="scene-import-convention",
                    )
                    normal_img = compat.image(label="Normal map", elem_id="scene-import-normal")
                    normal_msg = gr.Markdown("", elem_id="scene-import-normal-msg")

                with gr.Tab("Generate", elem_id="scene-import-generate-panel"):
                    with gr.Row():
                        mode = gr.Radio(
                            ["txt2img", "img2img"],
                            value="txt2img",
                            label="Mode",
                            elem_id="scene-import-mode",
                        )
                        seed = gr.Number(
                            label="Seed (shared by every camera)",
                            value=1234,
                            precision=0,
                            elem_id="scene-import-seed",
                        )
                        negative = gr.Textbox(label="Negative prompt", elem_id="scene-import-negative")
                    params_box = gr.Textbox(visible=False, elem_id="scene-import-send-params")
                    params_view = gr.Code(
                        label="Scene Import params", language="json", elem_id="scene-import-params-view"
                    )
                    with gr.Row():
                        send_t2i = gr.Button("Send to txt2img", elem_id="scene-import-send-txt2img")
                        send_i2i = gr.Button("Send to img2img", elem_id="scene-import-send-img2img")
                    gen_btn = gr.Button(
                        "Generate all cameras",
                        variant="primary",
                        elem_id="scene-import-generate",
                        visible=runner is not None,
                    )
                    gen_msg = gr.Markdown(
                        ""
                        if runner is not None
                        else "Generating needs A1111: this tab runs standalone, "
                        "so use **Send to txt2img** inside the webui.",
                        elem_id="scene-import-generate-msg",
                    )
                    gallery = gr.Gallery(label="Results", columns=4, elem_id="scene-import-gallery")

        # ================================================================== handlers
        depth_outputs = [
            sess,
            hist,
            depth_img,
            test_img,
            usage,
            table,
            status,
            split_no,
            levels_no,
            bound_no,
            cutoff,
            curve,
        ]

        def _status(msg: str, ok: bool = True) -> str:
            return ("" if ok else "⚠ ") + msg

        def _fail(exc: Exception) -> dict:
            msg = str(exc) if isinstance(exc, SceneImportError) else f"{type(exc).__name__}: {exc}"
            compat.warn(msg)
            return {status: _status(msg, ok=False)}

        def render_depth_out(s: TabSession, log: bool, message: str = "") -> dict:
            plan = s.state.require_plan()
            pv = s.preview()
            unit = _unit(s.summaries.get(s.state.current, {}))
            r = render_depth(pv, plan, log=bool(log), unit=unit, selected=s.state.selected)
            s.layout = r.layout
            u = r.usage
            per = " · ".join(f"{i}: {used}/{n}" for i, (n, used) in enumerate(u.per_split))
            usage_md = (
                f"**levels used {u.used} / allocated {u.allocated}, wasted {u.wasted}**, "
                f"unallocated {plan.remaining_levels} · per split {per}"
            )
            sel = s.state.selected
            out = {
                sess: s,
                hist: r.histogram,
                depth_img: r.depth,
                test_img: r.test,
                usage: usage_md,
                table: split_rows(plan, r.counts, u, pv.index.hits if pv.index else None),
                status: message,
                cutoff: plan.cutoff,
                curve: plan.curve,
            }
            if sel is not None:
                out[split_no] = sel
                out[levels_no] = plan.splits[sel].levels
                out[bound_no] = sel + 1
            return out

        def guard(fn):
            @functools.wraps(fn)  # gradio reads the signature (gr.SelectData parameters) through this
            def wrapped(*a, **k):
                try:
                    return fn(*a, **k)
                except Exception as exc:  # every failure becomes a message; the tab keeps working
                    return _fail(exc)

            return wrapped

        def need(s: TabSession | None) -> TabSession:
            if s is None or s.state.current is None:
                raise SceneImportError("load a scene first")
            return s

        # ---------------------------------------------------------------- loading
        camera_outputs = [
            *depth_outputs,
            camera,
            cam_info,
            beauty_img,
            overlay_img,
            legend,
            region_table,
            prompt,
            prompt_ok,
            normal_img,
            normal_msg,
            params_view,
            params_box,
        ]

        def after_load(s: TabSession, problems: list[str], log: bool) -> dict:
            rows = [s.summaries[c] for c in s.summaries]
            info_md = _camera_list_md(rows)
            if problems:
                info_md += "\n\n" + "\n\n".join(f"⚠ {gr_escape(p)}" for p in problems)
                for p in problems:
                    compat.warn(p)
            out = render_depth_out(s, log, message=f"Loaded {len(s.state.cameras)} camera(s).")
            out.update(
                {
                    camera: gr.update(choices=list(s.state.cameras), value=s.state.current),
                    cam_info: info_md,
                    beauty_img: s.preview().base_image(),
                    overlay_img: None,
                    legend: "",
                    region_table: [],
                    prompt: "",
                    prompt_ok: "",
                    normal_img: None,
                    normal_msg: "",
                }
            )
            return out

        @guard
        def on_upload(files, s, log):
            paths = compat.file_paths(files)
            if not paths:
                return {status: ""}
            s = TabSession(upload_dir)
            dest = s.stage(paths)
            exrs = [p for p in os.listdir(dest) if p.lower().endswith(".exr")]
            if not exrs:
                raise SceneImportError("no .exr file among the uploads", paths[0])
            stems = {os.path.splitext(n)[0] for n in exrs}
            desc_files = [
                os.path.join(dest, n)
                for n in sorted(os.listdir(dest))
                if n.lower().endswith(DESCRIPTION_EXTS)
                and os.path.splitext(n)[0] not in stems
                and not _is_daz_sidecar(n, exrs)
            ]
            problems = s.load([dest], folder=dest)
            problems += s.load_descriptions(desc_files)
            return after_load(s, problems, log)

        def open_folder(path, log):
            real = resolve_allowed(path, allowed)
            s = TabSession(upload_dir)
            problems = s.load([real], folder=real)
            descs = [
                os.path.join(real, n)
                for n in sorted(os.listdir(real))
                if n.lower().endswith((".properties", ".txt"))
            ]
            problems += s.load_descriptions(descs)
            return after_load(s, problems, log)

        @guard
        def on_open(path, s, log):
            return open_folder(path, log)

        @guard
        def on_camera(name, s, log):
            s = need(s)
            if not name or name == s.state.current:
                return {}
            s.state = s.state.select_camera(name)
            s.region_result = None
            out = render_depth_out(s, log, f"Camera {name}.")
            out[beauty_img] = s.preview().base_image()
            out[overlay_img] = None
            out[region_table] = []
            out[legend] = ""
            out[prompt] = ""
            out[prompt_ok] = ""
            out[normal_img] = None
            return out

        upload_ev = compat.on(
            upload.upload if hasattr(upload, "upload") else upload.change,
            on_upload,
            [upload, sess, log_scale],
            camera_outputs,
        )
        compat.on(open_btn.click, on_open, [folder, sess, log_scale], camera_outputs)
        compat.on(folder.submit, on_open, [folder, sess, log_scale], camera_outputs)
        if samples_dir:

            @guard
            def on_sample(s, log):
                s = TabSession(upload_dir)
                problems = s.load([samples_dir], folder=samples_dir)
                descs = [
                    os.path.join(samples_dir, n)
                    for n in sorted(os.listdir(samples_dir))
                    if n.lower().endswith((".properties", ".txt"))
                ]
                problems += s.load_descriptions(descs)
                return after_load(s, problems, log)

            compat.on(sample_btn.click, on_sample, [sess, log_scale], camera_outputs)
        compat.on(
            camera.select if hasattr(camera, "select") else camera.change,
            on_camera,
            [camera, sess, log_scale],
            camera_outputs,
        )
        del upload_ev

        # ---------------------------------------------------------------- depth edits
        @guard
        def on_add(d, s, log):
            d = _num_or_none(d)
            if d is None:
                raise SceneImportError("type a depth in the Depth box, or click a preview pixel")
            s = need(s)
            s.state = s.state.edit("add_cut", d)
            return render_depth_out(s, log, f"Added a split at {d:.6g}.")

        @guard
        def on_move(b, d, s, log):
            s = need(s)
            b, d = _int_or_none(b), _num_or_none(d)
            if b is None or d is None:
                raise SceneImportError("give a boundary number and a depth")
            s.state = s.state.edit("move_boundary", b, d)
            return render_depth_out(s, log, f"Moved boundary {b} to {d:.6g}.")

        @guard
        def on_remove(i, s, log):
            s = need(s)
            i = _int_or_none(i)
            if i is None:
                raise SceneImportError("give a split number")
            s.state = s.state.edit("remove", i)
            return render_depth_out(s, log, f"Removed split {i}.")

        @guard
        def on_allocate(i, n, s, log):
            s = need(s)
            i, n = _int_or_none(i), _int_or_none(n)
            if i is None or n is None:
                raise SceneImportError("give a split number and a level count")
            s.state = s.state.edit("allocate", i, n)
            return render_depth_out(s, log, f"Split {i} has {n} levels.")

        @guard
        def on_auto(m, s, log):
            s = need(s)
            counts = s.preview().index.split_counts(s.state.require_plan())
            s.state = s.state.edit("auto_allocate", m, counts)
            return render_depth_out(s, log, f"Shared the remaining levels ({m}).")

        @guard
        def on_apply_table(rows, s, log):
            s = need(s)
            plan = plan_from_rows(s.state.require_plan(), _rows(rows))
            s.state = s.state.with_plan(plan)
            return render_depth_out(s, log, "Applied the table.")

        @guard
        def on_undo(s, log):
            s = need(s)
            s.state = s.state.undo()
            return render_depth_out(s, log, "Undone.")

        @guard
        def on_cutoff(c, s, log):
            s = need(s)
            c = _num_or_none(c)
            if c == s.state.require_plan().cutoff:
                return {}
            s.state = s.state.edit("set_cutoff", c)
            return render_depth_out(s, log, "Cutoff removed." if c is None else f"Cutoff at {c:.6g}.")

        @guard
        def on_curve(c, s, log):
            s = need(s)
            if c == s.state.require_plan().curve:
                return {}
            s.state = s.state.edit("set_curve", c)
            return render_depth_out(s, log, f"Curve {c}.")

        @guard
        def on_one(s, log):
            s = need(s)
            lo, hi = s.preview().index.range
            s.state = s.state.with_plan(
                SplitPlan.single(lo, hi, curve=s.state.require_plan().curve), selected=None
            )
            return render_depth_out(s, log, "One split over the hit depth range, all 256 levels.")

        @guard
        def on_autoplan(s, log):
            s = need(s)
            cs = s.canvas()
            s.state = s.state.with_plan(auto_plan(cs.depth, cs.hit), selected=None)
            return render_depth_out(s, log, "Automatic plan.")

        @guard
        def on_zero(s, log):
            s = need(s)
            s.state = s.state.with_plan(zero_levels(s.state.require_plan()))
            return render_depth_out(s, log, "All levels are free to allocate.")

        @guard
        def on_log(s, log):
            s = need(s)
            return render_depth_out(s, log)

        @guard
        def on_pick(evt: gr.SelectData, s, log):
            s = need(s)
            xy = compat.select_index(evt)
            if not xy or len(xy) < 2:
                raise SceneImportError("no pixel position in the click")
            d = s.preview().depth_at(xy[0], xy[1])
            if d is None:
                raise SceneImportError(
                    f"no surface at pixel ({xy[0]}, {xy[1]}): the renderer hit nothing there"
                )
            s.state = s.state.edit("add_cut", d)
            out = render_depth_out(s, log, f"Added a split at {d:.6g} (pixel {xy[0]}, {xy[1]}).")
            out[depth_no] = round(d, 6)
            return out

        @guard
        def on_hist_pick(evt: gr.SelectData, s, log):
            s = need(s)
            xy = compat.select_index(evt)
            d = s.layout.depth_at_x(xy[0]) if (s.layout and xy) else None
            if d is None:
                raise SceneImportError("click inside the plot area")
            s.state = s.state.edit("add_cut", d)
            out = render_depth_out(s, log, f"Added a split at {d:.6g}.")
            out[depth_no] = round(d, 6)
            return out

        @guard
        def on_table_select(evt: gr.SelectData, s, log):
            # only the selection and the histogram's highlight change: re-sending the table would
            # end the cell edit the artist is starting
            s = need(s)
            rc = compat.select_index(evt)
            if not rc:
                return {}
            i = int(rc[0])
            s.state = s.state.select(i)
            plan = s.state.require_plan()
            unit = _unit(s.summaries.get(s.state.current, {}))
            img, s.layout = histogram_image(s.preview().index, plan, log=bool(log), unit=unit, selected=i)
            return {
                sess: s,
                hist: img,
                split_no: i,
                levels_no: plan.splits[i].levels,
                bound_no: i + 1,
                status: f"Split {i} selected.",
            }

        pick_outputs = [*depth_outputs, depth_no]
        L = log_scale
        compat.on(add_btn.click, on_add, [depth_no, sess, L], depth_outputs)
        compat.on(move_btn.click, on_move, [bound_no, depth_no, sess, L], depth_outputs)
        compat.on(remove_btn.click, on_remove, [split_no, sess, L], depth_outputs)
        compat.on(alloc_btn.click, on_allocate, [split_no, levels_no, sess, L], depth_outputs)
        compat.on(auto_btn.click, on_auto, [method, sess, L], depth_outputs)
        compat.on(apply_btn.click, on_apply_table, [table, sess, L], depth_outputs)
        compat.on(undo_btn.click, on_undo, [sess, L], depth_outputs)
        compat.on(
            cutoff.submit if hasattr(cutoff, "submit") else cutoff.blur,
            on_cutoff,
            [cutoff, sess, L],
            depth_outputs,
        )
        compat.on(
            curve.input if hasattr(curve, "input") else curve.change,
            on_curve,
            [curve, sess, L],
            depth_outputs,
        )
        compat.on(one_btn.click, on_one, [sess, L], depth_outputs)
        compat.on(autoplan_btn.click, on_autoplan, [sess, L], depth_outputs)
        compat.on(zero_btn.click, on_zero, [sess, L], depth_outputs)
        compat.on(
            log_scale.input if hasattr(log_scale, "input") else log_scale.change,
            on_log,
            [sess, L],
            depth_outputs,
        )
        for img in (depth_img, test_img, beauty_img):
            compat.on(img.select, on_pick, [sess, L], pick_outputs)
        compat.on(hist.select, on_hist_pick, [sess, L], pick_outputs)
        compat.on(
            table.select, on_table_select, [sess, L], [sess, hist, split_no, levels_no, bound_no, status]
        )

        # ---------------------------------------------------------------- presets
        @guard
        def on_save(name, replace_ok, s):
            s = need(s)
            path = save_named(s.state.require_plan(), presets_dir, name, overwrite=bool(replace_ok))
            names = list_presets(presets_dir)
            base = os.path.splitext(os.path.basename(path))[0]
            return {
                status: f"Saved preset **{gr_escape(base)}** ({path}).",
                preset_list: gr.update(choices=names, value=base),
                overwrite: False,
            }

        @guard
        def on_refresh():
            return {preset_list: gr.update(choices=list_presets(presets_dir))}

        @guard
        def on_load_preset(name, s, log):
            s = need(s)
            if not name:
                raise SceneImportError("choose a saved preset")
            plan = load_named(presets_dir, name)
            s.state = s.state.with_plan(plan, selected=None)
            return render_depth_out(
                s, log, f"Loaded preset **{gr_escape(name)}** for camera {s.state.current}."
            )

        @guard
        def on_apply_all(s, log):
            s = need(s)
            s.state = s.state.apply_to_all()
            return render_depth_out(
                s, log, f"The current splits now apply to all {len(s.state.cameras)} cameras."
            )

        compat.on(save_btn.click, on_save, [preset_name, overwrite, sess], [status, preset_list, overwrite])
        compat.on(refresh_btn.click, on_refresh, [], [preset_list, status])
        compat.on(load_btn.click, on_load_preset, [preset_list, sess, L], depth_outputs)
        compat.on(all_btn.click, on_apply_all, [sess, L], depth_outputs)

        # ---------------------------------------------------------------- regions
        region_outputs = [sess, overlay_img, legend, region_table, prompt, prompt_ok, status]

        def compute_regions(s: TabSession, src: str, thr: float):
            cs = s.canvas()
            plan = s.state.require_plan()
            try:
                from lib_scene.regions import build_regions
            except ImportError:
                build_regions = None
            if build_regions is None:
                if src != "splits":
                    raise SceneImportError(
                        f"region source {src!r} needs lib_scene.regions, which is not available yet; use 'splits'"
                    )
                pv = s.preview()
                from lib_scene.depth import region_image

                counts = pv.index.split_counts(plan)
                rows = split_region_rows(plan, counts, pv.index.total_pixels)
                mask = region_image(pv.depth, pv.hit, plan)
                return rows, mask, [], "splits"
            res = build_regions(
                cs, region_descriptions(s, cs, src, plan), source=src, threshold=float(thr), splits=plan
            )
            rows = [
                {
                    "number": r.number,
                    "indices": list(r.indices),
                    "color": tuple(r.color),
                    "objects": list(r.objects) or [f"index {i}" for i in r.indices],
                    "description": r.description,
                    "coverage": r.coverage,
                }
                for r in res.regions
            ]
            return rows, s.preview().grid.sample(res.mask), list(res.warnings), res.source

        def region_descriptions(s: TabSession, cs, src: str, plan):
            """The scene's object descriptions (not for regions from depth splits, whose numbers are
            no pass indices), with the descriptions edited in the region table on top."""
            from lib_scene.regions import RegionError, pick_source, with_edits

            try:
                from_splits = pick_source(cs, src, plan) == "splits"
            except RegionError:
                from_splits = False
            return with_edits(None if from_splits else s.descriptions, s.state.descriptions, source="tab")

        def assemble(base: str, rows: list[dict]) -> str:
            try:
                from lib_scene.regions import build_prompt
            except ImportError:
                build_prompt = None
            descs = [str(r["description"]) for r in rows]
            if build_prompt is not None:
                return build_prompt(base, descs).text
            if not descs:
                return base or ""
            return " BREAK ".join([(base or "").strip(), *(" ".join(d.split()) for d in descs)]).strip()

        def region_out(s: TabSession, src: str, thr: float, base: str) -> dict:
            rows, mask, warns, used = compute_regions(s, src, thr)
            s.state = s.state.with_settings(region_source=src, threshold=float(thr), base_prompt=base or "")
            s.region_result = rows
            text = assemble(base, rows)
            ok, msg = prompt_check(text, len(rows))
            table_rows = [
                [
                    r["number"],
                    "rgb({},{},{})".format(*r["color"]),
                    ", ".join(r["objects"]),
                    round(100 * r["coverage"], 2),
                    r["description"],
                ]
                for r in rows
            ]
            for w in warns:
                compat.warn(w)
            return {
                sess: s,
                overlay_img: overlay(s.preview().base_image(), mask),
                legend: _swatch_html(rows),
                region_table: table_rows,
                prompt: text,
                prompt_ok: ("✔ " if ok else "⚠ ") + msg,
                status: f"{len(rows)} region(s) from {used}." + ("" if not warns else " " + " ".join(warns)),
            }

        @guard
        def on_regions(src, thr, base, s):
            return region_out(need(s), src, thr, base)

        @guard
        def on_assemble(rows, base, s):
            s = need(s)
            if s.region_result is None:
                raise SceneImportError("build the regions first")
            rows = _rows(rows)
            if len(rows) != len(s.region_result):
                raise SceneImportError("the region table's rows cannot be added or removed")
            edited = []
            for r, row in zip(s.region_result, rows, strict=True):
                edited.append({**r, "description": str(row[4] if len(row) > 4 else r["description"]).strip()})
            s.region_result = edited
            s.state = s.state.with_descriptions(
                {i: r["description"] for r in edited for i in r.get("indices", [r["number"]])}
            ).with_settings(base_prompt=base or "")
            text = assemble(base, edited)
            ok, msg = prompt_check(text, len(edited))
            return {
                sess: s,
                prompt: text,
                prompt_ok: ("✔ " if ok else "⚠ ") + msg,
                status: "Prompt assembled.",
            }

        @guard
        def on_prompt_edit(text, s):
            n = len(s.region_result) if (s and s.region_result is not None) else 0
            ok, msg = prompt_check(text, n)
            return {prompt_ok: ("✔ " if ok else "⚠ ") + msg}

        compat.on(regions_btn.click, on_regions, [source, threshold, base_prompt, sess], region_outputs)
        compat.on(regions_tab.select, on_regions, [source, threshold, base_prompt, sess], region_outputs)
        compat.on(
            source.select if hasattr(source, "select") else source.change,
            on_regions,
            [source, threshold, base_prompt, sess],
            region_outputs,
        )
        compat.on(
            threshold.release if hasattr(threshold, "release") else threshold.change,
            on_regions,
            [source, threshold, base_prompt, sess],
            region_outputs,
        )
        compat.on(
            assemble_btn.click,
            on_assemble,
            [region_table, base_prompt, sess],
            [sess, prompt, prompt_ok, status],
        )
        compat.on(
            prompt.input if hasattr(prompt, "input") else prompt.change,
            on_prompt_edit,
            [prompt, sess],
            [prompt_ok],
        )

        # ---------------------------------------------------------------- normal
        @guard
        def on_normal(conv, s):
            s = need(s)
            try:
                from lib_scene.normals import normal_map
            except ImportError:
                return {
                    normal_img: None,
                    normal_msg: "Normal maps need lib_scene.normals, which is not available yet.",
                }
            cs = s.canvas()
            if cs.normal is None:
                return {normal_img: None, normal_msg: f"Camera {cs.camera} has no normal canvas."}
            s.state = s.state.with_settings(convention=conv)
            nm = normal_map(cs, convention=conv, sidecar=cs.sidecar)
            return {
                sess: s,
                normal_img: s.preview().grid.sample(nm),
                normal_msg: f"{conv} convention, {cs.width}x{cs.height}.",
            }

        compat.on(normal_tab.select, on_normal, [convention, sess], [sess, normal_img, normal_msg, status])
        compat.on(convention.change, on_normal, [convention, sess], [sess, normal_img, normal_msg, status])

        # ---------------------------------------------------------------- generate
        def params_dict(s: TabSession, md: str, sd, neg: str) -> dict:
            st = s.state
            plan = st.require_plan()
            d = {
                "mode": md,
                "base_prompt": st.base_prompt,
                "negative_prompt": neg or "",
                "seed": int(sd) if sd is not None else -1,
                "normal_convention": st.convention,
                "regions": {"source": st.region_source, "threshold": float(st.threshold)},
                "splits": plan.to_dict(),
                "scene": s.scene_folder,
                "camera": st.current,
            }
            if st.descriptions:
                d["region_descriptions"] = {str(k): v for k, v in sorted(st.descriptions.items())}
            return d

        @guard
        def on_params(s, md, sd, neg):
            s = need(s)
            d = params_dict(s, md, sd, neg)
            from lib_scene.plan import PlanParams

            PlanParams.from_dict(
                {k: v for k, v in d.items()}
            )  # a bad value is named here, not after the send
            return {params_view: json.dumps(d, indent=1), params_box: json.dumps(d), status: "Sent."}

        send_inputs = [sess, mode, seed, negative]
        for btn, tab in ((send_t2i, "txt2img"), (send_i2i, "img2img")):
            ev = compat.on(btn.click, on_params, send_inputs, [params_view, params_box, status])
            compat.on(ev.then, None, [params_box], [], js=f"(p) => sceneImportSendTo('{tab}', p)")

        if runner is not None:

            def on_generate(s, md, sd, neg, progress=gr.Progress()):  # noqa: B008 - gradio's way
                try:
                    s = need(s)
                    from lib_scene.plan import PlanParams, build_plan

                    d = params_dict(s, md, sd, neg)
                    d.pop("scene", None)
                    d.pop("camera", None)
                    # one seed for every camera: the same room, painted consistently
                    seed = d.get("seed", -1)
                    d["seed"] = random.randrange(2**32) if seed is None or int(seed) < 0 else int(seed)
                    params = PlanParams.from_dict({**d, "splits": None})
                    images, lines = [], []
                    cams = list(s.state.cameras)
                    for k, cam in enumerate(cams):
                        progress((k, len(cams)), desc=f"camera {k + 1}/{len(cams)}")
                        gplan = build_plan(
                            s.canvas(cam), params, preset=s.state.plans[cam], descriptions=s.descriptions
                        )
                        result = runner(gplan)
                        got = getattr(result, "images", result) or []
                        images.extend((img, f"{cam}") for img in got)
                        lines.append(
                            f"camera {k + 1}/{len(cams)} {cam}: {len(got)} image(s), seed {d['seed']}"
                        )
                    progress((len(cams), len(cams)), desc="done")
                    return {gallery: images, gen_msg: "\n\n".join(lines), status: "Generated."}
                except Exception as exc:  # the tab survives a failed generation
                    return _fail(exc)

            compat.on(gen_btn.click, on_generate, send_inputs, [gallery, gen_msg, status])

    return demo


# --------------------------------------------------------------------------- glue helpers


def _rows(value) -> list[list]:
    """A Dataframe value as a list of rows (array, pandas frame or {"data": ...})."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        return value.values.tolist()
    if isinstance(value, dict):
        return list(value.get("data") or [])
    return [list(r) for r in value]


def _is_daz_sidecar(name: str, exrs: list[str]) -> bool:
    """``<stem>.json`` beside Daz canvases named ``<stem>-CanvasN-Kind.exr``."""
    from lib_scene.canvas import DAZ_NAME

    stem = os.path.splitext(name)[0]
    for e in exrs:
        m = DAZ_NAME.match(e)
        if m and m.group("stem") == stem:
            return True
    return False


__all__ = ["SCRIPT_TITLE", "TabSession", "build_tab"]
