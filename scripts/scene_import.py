"""Scene Import: the one file A1111 executes (thin; the logic is in scene_import_a1111 and lib_scene).

A dropdown Script titled "Scene Import" (API ``script_name: "scene import"``, ``script_args:
[{...params...}]``) in txt2img and img2img, plus the routes, settings and tab callbacks.
"""

from modules import script_callbacks, scripts

from scene_import_a1111 import INFOTEXT_PARAMS, TITLE
from scene_import_a1111.callbacks import (
    on_app_started,
    on_cfg_denoiser,
    on_infotext_pasted,
    on_ui_settings,
    on_ui_tabs,
)
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


script_callbacks.on_app_started(on_app_started)
script_callbacks.on_ui_settings(on_ui_settings)
script_callbacks.on_ui_tabs(on_ui_tabs)
script_callbacks.on_cfg_denoiser(on_cfg_denoiser, name="scene_import_travel")
script_callbacks.on_infotext_pasted(on_infotext_pasted)
