"""Scene Import core: EXR render canvases -> depth splits, region masks, prompts, normal maps, plans.

Pure library: numpy, OpenEXR, Pillow (and opencv when present). It never imports the webui,
gradio, torch or pydantic; ``scripts/`` holds the thin A1111 glue.
"""

__version__ = "0.1.0"

from .errors import CanvasError, PresetError, SceneImportError, SplitError

__all__ = ["CanvasError", "PresetError", "SceneImportError", "SplitError", "__version__"]
