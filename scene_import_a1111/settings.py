"""A1111 Settings > Scene Import: one option per PlanParams default, and reading them back.

Option keys are ``scene_import_<dotted key with _>`` (e.g. ``scene_import_depth_weight``). Settings
cannot hold null, so nullable numbers use 0 and nullable strings "" for "the UI's value".
"""

from __future__ import annotations

import html
import logging

from lib_scene.params import ParamsError, PlanParams, Spec, field_specs

from . import SETTINGS_SECTION

log = logging.getLogger("scene_import")


def option_key(dotted: str) -> str:
    return "scene_import_" + dotted.replace(".", "_")


def _settings_default(spec: Spec, default):
    if default is None:
        return 0 if spec.kind in ("int", "float") else ""
    return default


def settings_fields() -> list[tuple[str, str, Spec, object]]:
    """(option key, dotted key, spec, settings default) for every field offered in Settings."""
    return [
        (option_key(k), k, spec, _settings_default(spec, default))
        for k, (spec, default) in field_specs().items()
        if spec.settings
    ]


def _component(spec: Spec):
    import gradio as gr

    if spec.kind == "bool":
        return gr.Checkbox, {}
    if spec.choices:
        return gr.Dropdown, {"choices": list(spec.choices)}
    if spec.kind in ("int", "float") and spec.lo is not None and spec.hi is not None:
        step = 1 if spec.kind == "int" else 0.01
        if spec.kind == "int" and spec.hi >= 1024:
            step = 8
        return gr.Slider, {"minimum": 0 if spec.nullable else spec.lo, "maximum": spec.hi, "step": step}
    if spec.kind in ("int", "float"):
        return gr.Number, {}
    return gr.Textbox, {}


def register_settings() -> None:
    """``on_ui_settings`` callback: add every option to the "Scene Import" section."""
    from modules import shared

    for key, dotted, spec, default in settings_fields():
        comp, args = _component(spec)
        label = f"{dotted}: {spec.label}"
        if spec.nullable:
            label += " (0 or empty: the UI's value)" if spec.kind != "splits" else " (empty: automatic)"
        info = shared.OptionInfo(default, label, comp, args, section=SETTINGS_SECTION)
        if spec.help and hasattr(info, "info"):
            info = info.info(html.escape(spec.help))
        shared.opts.add_option(key, info)


def params_from_options(opts) -> tuple[PlanParams, list[str]]:
    """PlanParams from the Settings (``shared.opts``); a bad setting falls back to the built-in
    default with a warning, so Settings can never block generation."""
    base = PlanParams()
    warnings: list[str] = []
    data = getattr(opts, "data", {}) or {}
    for key, dotted, spec, _default in settings_fields():
        if key not in data:
            continue
        value = data[key]
        if spec.nullable and value in (0, 0.0, "", None):
            value = None
        if spec.kind == "int" and isinstance(value, float) and value.is_integer():
            value = int(value)
        try:
            base = PlanParams.from_dict({dotted: value}, base=base)
        except ParamsError as exc:
            warnings.append(
                f"Settings > Scene Import > {dotted}: {'; '.join(exc.problems)}; using the default"
            )
    return base, warnings


def settings_defaults() -> PlanParams:
    """The current defaults (built-in, overridden by A1111's Settings when running inside it)."""
    try:
        from modules import shared
    except ImportError:
        return PlanParams()
    params, warnings = params_from_options(shared.opts)
    for w in warnings:
        log.warning(w)
    return params
