"""What the sections share: the built components (:class:`Tab`) and the tab's configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .depth import DepthUI
    from .generate import GenerateUI
    from .load import LoadUI
    from .normal import NormalUI
    from .plans import Facts
    from .presets import PresetsUI
    from .regions import RegionsUI
    from .travel import TravelUI


@dataclass(frozen=True)
class Config:
    allowed: tuple[str, ...]
    presets_dir: str
    samples_dir: str | None
    runner: Callable[[Any], Any] | None  # generates one GenerationPlan; None: standalone
    facts: Callable[[], Facts]  # Settings defaults and the host's ControlNet models, read per use


@dataclass
class Tab:
    """Every section's components, the session state and the status line."""

    sess: Any
    status: Any
    load: LoadUI
    presets: PresetsUI
    depth: DepthUI
    regions: RegionsUI
    normal: NormalUI
    gen: GenerateUI
    travel: TravelUI
