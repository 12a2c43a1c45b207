"""PNG Info paste of a Scene Import image (scene_import_a1111.callbacks.on_infotext_pasted).

A1111 1.10.1 parses the infotext into ``params`` (modules/infotext_utils.py), runs every
``on_infotext_pasted`` callback on it, then fills the paste fields: its ScriptRunner's dropdown takes
``params["Script"]``, Regional Prompter's checkbox ``params["RP Active"]`` (``"False"`` -> False).
The browser round trip against the real webui is tests/integration/test_webui_browser.py.
"""

from __future__ import annotations

import json

from scene_import_a1111 import INFOTEXT_PARAMS, TITLE
from scene_import_a1111.callbacks import on_infotext_pasted

PARAMS = json.dumps({"scene": "/srv/scenes/room", "camera": "Cam0", "seed": 7})


def test_a_scene_import_image_selects_the_script_and_leaves_rp_off():
    params = {INFOTEXT_PARAMS: PARAMS, "RP Active": "True", "RP Divide mode": "Mask", "Seed": "7"}
    on_infotext_pasted("...", params)
    assert params["Script"] == TITLE  # images made before the Script key was written
    assert params["RP Active"] == "False"  # RP's mask is not in the infotext: RP alone would fail
    assert params[INFOTEXT_PARAMS] == PARAMS and params["RP Divide mode"] == "Mask" and params["Seed"] == "7"


def test_the_script_key_written_by_the_plan_is_kept():
    params = {INFOTEXT_PARAMS: PARAMS, "Script": TITLE, "RP Active": "False"}
    on_infotext_pasted("...", params)
    assert params == {INFOTEXT_PARAMS: PARAMS, "Script": TITLE, "RP Active": "False"}


def test_other_images_are_untouched():
    params = {"RP Active": "True", "RP Divide mode": "Mask", "Script": "X/Y/Z plot"}
    pasted = dict(params)
    on_infotext_pasted("...", pasted)
    assert pasted == params
