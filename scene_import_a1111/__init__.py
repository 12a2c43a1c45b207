"""Scene Import host glue: gradio UI builders, A1111/ControlNet/Regional Prompter adapters, API routes.

Host imports (``modules``, ``gradio``, ``fastapi``) happen inside functions, so this package imports
anywhere; everything that is not about the host lives in ``lib_scene``.
"""

from lib_scene import __version__
from lib_scene.wire import INFOTEXT_SCRIPT, INFOTEXT_SCRIPT_TITLE

#: The dropdown Script's title; its API name is ``TITLE.lower()`` ("scene import"). Keep it constant.
TITLE = "Scene Import"
API_NAME = TITLE.lower()
#: Infotext key whose value is the full params JSON; pasting it refills the Script's params box.
INFOTEXT_PARAMS = "Scene Import params"
SETTINGS_SECTION = ("scene_import", "Scene Import")
#: The always-on companion Script (``companion.py``) is titled INFOTEXT_SCRIPT_TITLE; its API name is
#: INFOTEXT_SCRIPT (``lib_scene.wire``, where the payload side lives).

__all__ = [
    "API_NAME",
    "INFOTEXT_PARAMS",
    "INFOTEXT_SCRIPT",
    "INFOTEXT_SCRIPT_TITLE",
    "SETTINGS_SECTION",
    "TITLE",
    "__version__",
]
