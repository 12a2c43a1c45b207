"""The Regions panel: region source and threshold, the overlay and legend, the region table whose
descriptions the artist edits, the base prompt and the editable prompt.

The prompt shown is the prompt the current camera's plan generates (``plans.preview``); what the
artist types in it is kept per camera and generated verbatim (its BREAK count is checked)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from lib_scene.errors import SceneImportError
from lib_scene.preview import overlay
from lib_scene.region_labels import is_crypto, region_stats
from lib_scene.regions import RegionError, build_regions, paint_mask, pick_source, with_edits
from lib_scene.session import REGION_COLUMNS
from scene_import_a1111 import compat

from . import plans
from .context import Config, Tab
from .handlers import event, guard, need
from .state import TabSession
from .view import check_md, rows_of, swatch_html, table

#: Region statistics kept per session (camera x source x split plan).
KEEP_STATS = 4


@dataclass
class RegionsUI:
    source: Any
    threshold: Any
    build_btn: Any
    overlay_img: Any
    legend: Any
    table: Any
    base_prompt: Any
    assemble_btn: Any
    prompt: Any
    prompt_ok: Any
    panel: Any = None  # the gr.Tab (set by the caller)


def build_regions_panel() -> RegionsUI:
    with gr.Row():
        source = gr.Dropdown(
            ["auto", "index", "material", "splits"],
            value="auto",
            label="Region source (or aov:NAME, cryptomatte:LAYER)",
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
        build_btn = gr.Button("Build regions", elem_id="scene-import-build-regions")
    with gr.Row():
        overlay_img = compat.image(label="Regions over the beauty", elem_id="scene-import-region-overlay")
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
    return RegionsUI(
        source,
        threshold,
        build_btn,
        overlay_img,
        legend,
        region_table,
        base_prompt,
        assemble_btn,
        prompt,
        prompt_ok,
    )


def region_outputs(t: Tab) -> list[Any]:
    r = t.regions
    return [t.sess, r.overlay_img, r.legend, r.table, r.prompt, r.prompt_ok, t.status]


# --------------------------------------------------------------------------- computing


def _descriptions(s: TabSession, src: str) -> Any:
    """The scene's object descriptions (not for regions from depth splits, whose numbers are no
    pass indices), with the descriptions edited in the region table on top."""
    cs, plan = s.canvas(), s.state.require_plan()
    try:
        from_splits = pick_source(cs, src, plan) == "splits"
    except RegionError:
        from_splits = False
    edits = {str(k): v for k, v in s.state.descriptions.items()}
    return with_edits(None if from_splits else s.descriptions, edits, source="tab")


def _stats(s: TabSession, cs: Any, src: str, plan: Any) -> Any:
    """The camera's labels counted and their depths sorted once per source (and split plan, for
    regions from splits): a threshold change then re-thresholds them."""
    used = pick_source(cs, src, plan)
    if is_crypto(used):  # Cryptomatte regions depend on the descriptions: built afresh each time
        return None
    key = (cs.camera, used, json.dumps(plan.to_dict(), sort_keys=True) if used == "splits" else "")
    st = s.region_stats.get(key)
    if st is None:
        st = s.region_stats[key] = region_stats(cs, used, plan)
        while len(s.region_stats) > KEEP_STATS:
            s.region_stats.pop(next(iter(s.region_stats)))
    return st


def compute(s: TabSession, src: str, thr: float) -> tuple[list[dict[str, Any]], np.ndarray, list[str], str]:
    """The current camera's regions: rows, the mask at preview size, warnings, the source used."""
    cs, plan = s.canvas(), s.state.require_plan()
    grid = s.preview().grid
    res = build_regions(  # the labels at the preview grid's pixels only
        cs,
        _descriptions(s, src),
        source=src,
        threshold=float(thr),
        splits=plan,
        stats=_stats(s, cs, src, plan),
        grid=(grid.ys, grid.xs),
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
    # the labels at the preview grid's pixels, then painted: the same pixels as sampling the
    # whole RGB mask
    mask = paint_mask(res.labels.view(np.uint16), len(res.regions))
    return rows, mask, list(res.warnings), res.source


def table_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["number"],
            "rgb({},{},{})".format(*r["color"]),
            ", ".join(r["objects"]),
            round(100 * r["coverage"], 2),
            r["description"],
        ]
        for r in rows
    ]


def prompt_view(t: Tab, cfg: Config, s: TabSession) -> dict[Any, Any]:
    """The prompt box and its check for the current camera: the artist's typed prompt if any,
    else the prompt the plan generates."""
    cam = s.state.current or ""
    plan = plans.preview(s, plans.tab_params(s, "txt2img", -1, "", ""), cfg.facts())
    s.planned[cam] = plan
    text = s.prompts.get(cam) or plan.prompt
    ok, msg = plans.check(text, plan)
    return {t.regions.prompt: text, t.regions.prompt_ok: check_md(ok, msg)}


def cleared(t: Tab, s: TabSession, message: str) -> dict[Any, Any]:
    """No regions on screen (after a failure): overlay, legend, table and prompt emptied."""
    r = t.regions
    s.region_result = None
    return {
        t.sess: s,
        r.overlay_img: None,
        r.legend: swatch_html([]),
        r.table: table(REGION_COLUMNS, []),
        r.prompt: "",
        r.prompt_ok: "",
        t.status: message,
    }


def show(t: Tab, cfg: Config, s: TabSession) -> dict[Any, Any]:
    """Build and show the current camera's regions with the session's region settings. A source
    that does not fit the camera clears the panel and says why, once."""
    st = s.state
    try:
        rows, mask, warns, used = compute(s, st.region_source, st.threshold)
    except SceneImportError as exc:
        compat.warn(str(exc))
        return cleared(t, s, "⚠ " + str(exc))
    s.region_result = rows
    for w in warns:
        compat.warn(w)
    r = t.regions
    out = {
        t.sess: s,
        r.overlay_img: compat.png_image(overlay(s.preview().base_image(), mask)),
        r.legend: swatch_html(rows),
        r.table: table(REGION_COLUMNS, table_rows(rows)),
        t.status: f"{len(rows)} region(s) from {used}." + ("" if not warns else " " + " ".join(warns)),
    }
    out.update(prompt_view(t, cfg, s))
    return out


# --------------------------------------------------------------------------- wiring


def _edited(s: TabSession, rows: Any) -> list[dict[str, Any]]:
    if s.region_result is None:
        raise SceneImportError("build the regions first")
    got = [r for r in rows_of(rows) if any(str(c).strip() for c in r)]
    if len(got) != len(s.region_result):
        raise SceneImportError("the region table's rows cannot be added or removed")
    return [
        {**r, "description": str(row[4] if len(row) > 4 else r["description"]).strip()}
        for r, row in zip(s.region_result, got, strict=True)
    ]


def wire_regions(t: Tab, cfg: Config) -> None:
    r, ok, sess = t.regions, guard(t.status), t.sess

    @ok
    def on_regions(src: str, thr: float, base: str, s: TabSession | None) -> dict[Any, Any]:
        s = need(s)
        s.state = s.state.with_settings(
            region_source=src or "auto", threshold=float(thr), base_prompt=base or ""
        )
        s.prompts.pop(s.state.current or "", None)
        return show(t, cfg, s)

    @ok
    def on_assemble(rows: Any, base: str, s: TabSession | None) -> dict[Any, Any]:
        s = need(s)
        edited = _edited(s, rows)
        s.region_result = edited
        s.state = s.state.with_descriptions(
            {i: e["description"] for e in edited for i in e.get("indices", [e["number"]])}
        ).with_settings(base_prompt=base or "")
        s.prompts.pop(s.state.current or "", None)
        return {sess: s, **prompt_view(t, cfg, s), t.status: "Prompt assembled."}

    @ok
    def on_prompt_edit(text: str, s: TabSession | None) -> dict[Any, Any]:
        if s is None or s.state.current is None:
            return {r.prompt_ok: ""}
        cam = s.state.current
        s.prompts[cam] = text or ""
        plan = s.planned.get(cam)
        if plan is None:
            plan = s.planned[cam] = plans.preview(s, plans.tab_params(s, "txt2img", -1, "", ""), cfg.facts())
        return {sess: s, r.prompt_ok: check_md(*plans.check(text or "", plan))}

    inputs = [r.source, r.threshold, r.base_prompt, sess]
    outs = region_outputs(t)
    compat.on(r.build_btn.click, on_regions, inputs, outs)
    if r.panel is not None:
        compat.on(r.panel.select, on_regions, inputs, outs)
    compat.on(event(r.source, "select", "change"), on_regions, inputs, outs)
    compat.on(event(r.threshold, "release", "change"), on_regions, inputs, outs)
    compat.on(r.assemble_btn.click, on_assemble, [r.table, r.base_prompt, sess], outs)
    compat.on(
        event(r.prompt, "input", "change"), on_prompt_edit, [r.prompt, sess], [sess, r.prompt_ok, t.status]
    )
