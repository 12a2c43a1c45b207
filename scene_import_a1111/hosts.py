"""Adapters for the host's ControlNet and Regional Prompter scripts, found by title in a ScriptRunner.

Both are always-on scripts that read their args from ``p.script_args[args_from:args_to]`` inside
``process_images``; a dropdown script drives them by rewriting those slices **keeping each slice's
length** (a different length shifts every later script's args).
"""

from __future__ import annotations

import importlib.util
import logging
import sys

from lib_scene.errors import HostError
from lib_scene.wire import RP_ARG_COUNT

log = logging.getLogger("scene_import")

CN_TITLE = "controlnet"
RP_TITLE = "regional prompter"


def is_forge() -> bool:
    """True inside Forge (its ``modules_forge`` package exists)."""
    if "modules_forge" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("modules_forge") is not None
    except (ImportError, ValueError):
        return False


def find_script(runner, title: str):
    """The always-on script whose ``title().lower()`` is ``title`` (None when absent)."""
    for group in ("alwayson_scripts", "scripts"):
        for script in getattr(runner, group, None) or []:
            try:
                if str(script.title()).lower() == title:
                    return script
            except Exception:  # a broken third-party title() must not break us
                continue
    return None


def _slots(script) -> int:
    return int(script.args_to) - int(script.args_from)


def _enabled(u) -> bool:
    return bool(u.get("enabled", False) if isinstance(u, dict) else getattr(u, "enabled", False))


def _unit_like(x) -> bool:
    return isinstance(x, dict) or hasattr(x, "enabled")


class _HostScript:
    """An always-on script of another extension, found by title, and its slice of ``script_args``."""

    label = ""

    def __init__(self, runner, title: str):
        self.script = find_script(runner, title)

    @property
    def present(self) -> bool:
        return self.script is not None

    @property
    def slots(self) -> int:
        return _slots(self.script) if self.script is not None else 0

    def slice_problem(self, script_args) -> str | None:
        """A message when this script's slice is missing or does not hold its args (shifted)."""
        if self.script is None:
            return None
        a, b = self.script.args_from, self.script.args_to
        if len(script_args) < b:
            return f"script_args has {len(script_args)} entries; {self.label}'s slice is {a}:{b}"
        return self._content_problem(script_args[a:b], a, b)

    def _content_problem(self, args, a: int, b: int) -> str | None:
        return None


class ControlNetAdapter(_HostScript):
    """Mikubill's ControlNet (A1111) or Forge's builtin one, found by the title "ControlNet"."""

    label = "ControlNet"

    def __init__(self, runner):
        super().__init__(runner, CN_TITLE)
        self.forge = is_forge()

    @property
    def host(self) -> str:
        return "forge" if self.forge else "a1111"

    def _content_problem(self, args, a: int, b: int) -> str | None:
        bad = [i for i, x in enumerate(args) if not _unit_like(x)]
        if bad:
            return f"ControlNet's slice {a}:{b} holds non-units at {bad}: the script args are shifted"
        return None

    def write(self, script_args: list, units: list[dict]) -> list[str]:
        """Overwrite ControlNet's slice, keeping its length: our ``units`` first, then the units the
        user enabled themselves (e.g. a pose unit: pose is left to the user), then
        ``{"enabled": False}`` pads. Returns warnings."""
        a, b = self.script.args_from, self.script.args_to
        n = b - a
        kept = [u for u in script_args[a:b] if _enabled(u)]
        if len(units) + len(kept) > n:
            raise HostError(
                f"Scene Import needs {len(units)} ControlNet units and {len(kept)} more are enabled by you, "
                f"but ControlNet has {n}; disable yours or raise Settings > ControlNet > "
                "'Multi-ControlNet: ControlNet unit number'"
            )
        padded = (
            [dict(u) for u in units] + kept + [{"enabled": False} for _ in range(n - len(units) - len(kept))]
        )
        script_args[a:b] = padded
        return (
            [f"kept {len(kept)} ControlNet unit(s) you enabled, after Scene Import's {len(units)}"]
            if kept
            else []
        )

    @staticmethod
    def external_code():
        """ControlNet's ``external_code`` module once ControlNet has loaded (looked up lazily)."""
        for name in ("internal_controlnet.external_code", "lib_controlnet.external_code"):
            mod = sys.modules.get(name)
            if mod is not None:
                return mod
        for name, mod in list(sys.modules.items()):
            if name.endswith("scripts.external_code") and hasattr(mod, "get_models"):
                return mod
        return None

    def models(self) -> list[str] | None:
        """The host's ControlNet models as "name [hash8]" strings, or None when unknown."""
        ec = self.external_code()
        if ec is not None and hasattr(ec, "get_models"):
            try:
                return [str(m) for m in ec.get_models() if m and m != "None"]
            except Exception as exc:
                log.warning("Scene Import: ControlNet get_models() failed: %s", exc)
        if self.forge:
            # Forge's builtin keeps "name [hash]" strings in lib_controlnet.global_state.controlnet_names
            # (extensions-builtin/sd_forge_controlnet/lib_controlnet/global_state.py)
            gs = sys.modules.get("lib_controlnet.global_state")
            names = getattr(gs, "controlnet_names", None)
            if names is not None:
                return [str(m) for m in names if m and m != "None"]
            log.warning("Scene Import: cannot list Forge's ControlNet models (lib_controlnet not loaded)")
        return None


class RegionalPrompterAdapter(_HostScript):
    """hako-mikan's Regional Prompter, found by the title "Regional Prompter"."""

    label = "Regional Prompter"

    def __init__(self, runner):
        super().__init__(runner, RP_TITLE)

    def _content_problem(self, args, a: int, b: int) -> str | None:
        if not isinstance(args[0], bool):
            return f"Regional Prompter's slice starts with {args[0]!r}, not its 'active' flag: shifted args"
        return None

    def write(self, script_args: list, args: list) -> list[str]:
        """Overwrite RP's slice with its 20 args, keeping the slice length. Returns warnings."""
        a, b = self.script.args_from, self.script.args_to
        n = b - a
        warnings = []
        if n != RP_ARG_COUNT:
            warnings.append(
                f"Regional Prompter takes {n} args here, not the {RP_ARG_COUNT} of be62345; "
                "only the first ones are written (check its version)"
            )
        values = list(args[:n]) + list(script_args[a + len(args) : b])
        script_args[a:b] = values[:n]
        return warnings
