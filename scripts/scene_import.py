"""Scene Import: the one file A1111 executes (thin; the logic is in scene_import_a1111 and lib_scene).

A dropdown Script titled "Scene Import" (API ``script_name: "scene import"``, ``script_args:
[{...params...}]``) in txt2img and img2img; the always-on companion "Scene Import infotext" that puts
a payload's Scene Import infotext on its image (``alwayson_scripts: {"scene import infotext":
{"args": [{...}]}}``, see scene_import_a1111/companion.py); the routes, settings and tab callbacks.

A1111 (and Forge) register every ``scripts.Script`` subclass found in this module's namespace
(modules/scripts.py ``register_scripts_from_module``): the two classes below, nothing else.
"""

from modules import script_callbacks, scripts

from scene_import_a1111 import INFOTEXT_PARAMS, INFOTEXT_SCRIPT_TITLE, TITLE
from scene_import_a1111.callbacks import (
    on_app_started,
    on_cfg_denoiser,
    on_infotext_pasted,
    on_ui_settings,
    on_ui_tabs,
)
from scene_import_a1111.companion import apply_infotext_arg, companion_ui
from scene_import_a1111.runner import run_script
from scene_import_a1111.ui import build_script_ui


class Script(scripts.Script):
    def title(self):
        return TITLE

    def show(self, is_img2img):
        return True

    def ui(self, is_img2img):
        params_box = build_script_ui(is_img2img)
        self.infotext_fields = [(params_box, INFOTEXT_PARAMS)]
        self.paste_field_names = [INFOTEXT_PARAMS]
        return [params_box]

    def run(self, p, *args):
        return run_script(self, p, args)


class SceneImportInfotext(scripts.Script):
    create_group = False  # nothing to show: no empty group in the UI

    def title(self):
        return INFOTEXT_SCRIPT_TITLE

    def show(self, is_img2img):
        return scripts.AlwaysVisible

    def ui(self, is_img2img):
        return companion_ui()

    def process(self, p, *args):
        apply_infotext_arg(p, args)


script_callbacks.on_app_started(on_app_started)
script_callbacks.on_ui_settings(on_ui_settings)
script_callbacks.on_ui_tabs(on_ui_tabs)
script_callbacks.on_cfg_denoiser(on_cfg_denoiser, name="scene_import_travel")
script_callbacks.on_infotext_pasted(on_infotext_pasted)
