"""FAKE modules.script_callbacks: records registered callbacks."""

callbacks = {"app_started": [], "ui_settings": [], "ui_tabs": [], "cfg_denoiser": [], "infotext_pasted": []}


def on_app_started(fn, *, name=None):
    callbacks["app_started"].append(fn)


def on_ui_settings(fn, *, name=None):
    callbacks["ui_settings"].append(fn)


def on_ui_tabs(fn, *, name=None):
    callbacks["ui_tabs"].append(fn)


def on_cfg_denoiser(fn, *, name=None):
    callbacks["cfg_denoiser"].append(fn)


def on_infotext_pasted(fn, *, name=None):
    callbacks["infotext_pasted"].append(fn)
