"""Progress bars for long CLI work: tqdm on a terminal, nothing when piped or without tqdm.

A bar appears only after about a second (tqdm's ``delay``), so quick commands print exactly what
they always did; it goes to stderr, so stdout stays the command's contract. ``tqdm`` is imported on
first use only (A1111 ships it; the CLI works without it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

_T = TypeVar("_T")
#: Seconds before a bar shows: work shorter than this prints nothing extra.
DELAY = 1.0


def _bar(total: int, desc: str, unit: str) -> Any:
    """A tqdm bar on stderr, or None when stderr is no terminal or tqdm is not installed."""
    stream = sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs installed
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit=unit, delay=DELAY, file=stream, leave=False, dynamic_ncols=True)


class Steps:
    """Steps of one job (e.g. read, quantise, encode per camera) as one bar::

    with Steps(3 * len(cams), "depth") as steps:
        steps.next("Cam0: read")
    """

    def __init__(self, total: int, desc: str, unit: str = "step"):
        self._bar = _bar(total, desc, unit)
        self._open: str | None = None

    def next(self, what: str) -> None:
        """The previous step is done; ``what`` is under way."""
        if self._bar is None:
            return
        if self._open is not None:
            self._bar.update(1)
        self._open = what
        self._bar.set_postfix_str(what, refresh=True)

    def set_total(self, total: int) -> None:
        """The number of steps, once it is known (e.g. after the cameras are found)."""
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def print(self, text: str) -> None:
        """Print a line of the command's output (stdout) without tearing the bar."""
        if self._bar is not None:
            self._bar.clear()
        print(text, flush=True)
        if self._bar is not None:
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            if self._open is not None:
                self._bar.update(1)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Steps:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def progress(items: Iterable[_T], desc: str, total: int | None = None, unit: str = "it") -> Iterator[_T]:
    """Iterate ``items`` with a bar (see the module doc)."""
    seq = list(items) if total is None else items
    n = len(seq) if isinstance(seq, list) else int(total or 0)
    with Steps(n, desc, unit) as steps:
        for k, item in enumerate(seq):
            steps.next(f"{k + 1}/{n}")
            yield item
