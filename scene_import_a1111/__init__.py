"""Scene Import host glue: gradio UI builders, A1111/ControlNet/Regional Prompter adapters, API routes.

Host imports (``modules``, ``gradio``, ``fastapi``) happen inside functions, so this package imports
anywhere; everything that is not about the host lives in ``lib_scene``.
"""

from lib_scene import __version__

#: The dropdown Script's title; its API name is ``TITLE.lower()`` ("scene import"). Keep it constant.
TITLE = "Scene Import"
API_NAME = TITLE.lower()
#: Infotext key whose value is the full params JSON; pasting it refills the Script's params box.
INFOTEXT_PARAMS = "Scene Import params"
SETTINGS_SECTION = ("scene_import", "Scene Import")

__all__ = ["API_NAME", "INFOTEXT_PARAMS", "SETTINGS_SECTION", "TITLE", "__version__"]
