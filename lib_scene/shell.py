"""An interactive split editor for artists who know the daz_depthmap_processor (DDP) shell.

Commands: histogram, show_splits, suggest, add, move, remove, merge, allocate, flag, cutoff,
curve, usage, test, write, save, load, camera, help, quit. Every edit is validated; an invalid one
prints why and changes nothing.
"""

from __future__ import annotations

import cmd
import os
import shlex
from typing import Any

from numpy.typing import NDArray

from .canvas import CanvasSet
from .cli_base import depth_and_hit
from .depth import (
    Quantized,
    histogram,
    level_usage,
    quantize,
    split_counts,
    suggest_cuts,
    test_image,
)
from .errors import SceneImportError
from .files import OutputBatch
from .plan import depth_splits
from .splits import FLAGS, SplitPlan, load_preset, save_preset


class SplitShell(cmd.Cmd):
    intro = "Scene Import split shell. Type help or ? to list commands."

    def __init__(
        self, cameras: list[CanvasSet], plan: SplitPlan | None = None, out: str = ".", **kw: Any
    ) -> None:
        super().__init__(**kw)
        if not cameras:
            raise SceneImportError("no cameras to edit")
        self.cameras = cameras
        self.cam = cameras[0]
        self.plan = depth_splits(self.cam, plan)
        self.out = out
        self.use_rawinput = kw.get("stdin") is None
        self._set_prompt()

    # ------------------------------------------------------------------ plumbing
    def _set_prompt(self) -> None:
        self.prompt = f"scene[{self.cam.camera}]> "

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except SceneImportError as exc:
            self.say(f"error: {exc}")
        except (ValueError, TypeError) as exc:
            self.say(f"error: {exc}")
        return False

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        self.say(f"unknown command {line.split()[0]!r}; type help")

    @staticmethod
    def _args(arg: str, n_min: int, usage: str) -> list[str]:
        parts = shlex.split(arg)
        if len(parts) < n_min:
            raise ValueError(f"usage: {usage}")
        return parts

    @property
    def depth(self) -> NDArray[Any]:
        return depth_and_hit(self.cam)[0]

    @property
    def hit(self) -> NDArray[Any]:
        return depth_and_hit(self.cam)[1]

    def _edit(self, plan: SplitPlan) -> None:
        self.plan = plan
        self.do_show_splits("")

    # ------------------------------------------------------------------ read-outs
    def do_histogram(self, arg: str) -> None:
        """histogram [BINS]: depth histogram over hit pixels (default 20 bins)."""
        bins = int(arg) if arg.strip() else 20
        self.say(histogram(self.depth, self.hit, bins=bins, cutoff=self.plan.cutoff).describe())

    def do_show_splits(self, arg: str) -> None:
        """show_splits: the split table with pixel shares and levels."""
        q = Quantized.of(self.depth, self.hit, self.plan)
        self.say(self.plan.describe(q.counts(), int(self.hit.sum())))
        self.say(q.usage().describe())

    def do_usage(self, arg: str) -> None:
        """usage: levels used and wasted per split."""
        u = level_usage(self.depth, self.hit, self.plan)
        for i, (n, used) in enumerate(u.per_split):
            self.say(f"split {i}: {used}/{n} levels used")
        self.say(u.describe())

    def do_suggest(self, arg: str) -> None:
        """suggest: cut points from histogram valleys and object depth ranges."""
        for s in suggest_cuts(self.depth, self.hit, self.cam.object_index):
            extra = f" (index {s.index})" if s.index is not None else ""
            self.say(f"{s.depth:.6g}  {s.reason}{extra}  score {s.score:.3f}")

    # ------------------------------------------------------------------ edits
    def do_add(self, arg: str) -> None:
        """add DEPTH: cut the split holding DEPTH in two."""
        (d, *_) = self._args(arg, 1, "add DEPTH")
        self._edit(self.plan.add_cut(float(d)))

    def do_move(self, arg: str) -> None:
        """move BOUNDARY DEPTH: move boundary BOUNDARY (0 = first start) to DEPTH."""
        b, d = self._args(arg, 2, "move BOUNDARY DEPTH")[:2]
        self._edit(self.plan.move_boundary(int(b), float(d)))

    def do_remove(self, arg: str) -> None:
        """remove SPLIT: merge split SPLIT into its neighbour."""
        (i, *_) = self._args(arg, 1, "remove SPLIT")
        self._edit(self.plan.remove(int(i)))

    def do_merge(self, arg: str) -> None:
        """merge A B: merge neighbouring splits A and B."""
        a, b = self._args(arg, 2, "merge A B")[:2]
        self._edit(self.plan.merge(int(a), int(b)))

    def do_allocate(self, arg: str) -> None:
        """allocate SPLIT LEVELS | allocate rest [proportional|even]: set levels, or share the remaining ones."""
        parts = self._args(arg, 1, "allocate SPLIT LEVELS | allocate rest [proportional|even]")
        if parts[0] in ("rest", "remaining", "auto"):
            method = parts[1] if len(parts) > 1 else "proportional"
            counts = split_counts(self.depth, self.hit, self.plan)
            self._edit(self.plan.auto_allocate(method, counts))
        else:
            if len(parts) < 2:
                raise ValueError("usage: allocate SPLIT LEVELS")
            self._edit(self.plan.allocate(int(parts[0]), int(parts[1])))

    def do_flag(self, arg: str) -> None:
        """flag SPLIT label|test|region VALUE: set a flag (an empty VALUE "" clears it)."""
        parts = self._args(arg, 2, f"flag SPLIT {'|'.join(FLAGS)} [VALUE]")
        value = parts[2] if len(parts) > 2 else None
        self._edit(self.plan.set_flag(int(parts[0]), parts[1], value))

    def do_cutoff(self, arg: str) -> None:
        """cutoff DEPTH|none: depth at or past this is black."""
        v = arg.strip()
        self._edit(self.plan.set_cutoff(None if v.lower() in ("", "none", "off") else float(v)))

    def do_curve(self, arg: str) -> None:
        """curve linear|inverse: level spacing within each split."""
        self._edit(self.plan.set_curve(arg.strip()))

    # ------------------------------------------------------------------ files
    def _write(self, suffix: str, arr: NDArray[Any]) -> None:
        path = os.path.join(self.out, f"{self.cam.camera}.{suffix}.png")
        batch = OutputBatch(protect=list(self.cam.channels))
        batch.add_png(path, arr)
        batch.commit()
        self.say(f"wrote {path}")

    def do_test(self, arg: str) -> None:
        """test: write <camera>.test.png, each split in its test colour."""
        self._write("test", test_image(self.depth, self.hit, self.plan))

    def do_write(self, arg: str) -> None:
        """write: write <camera>.depth.png with the current splits."""
        self._write("depth", quantize(self.depth, self.hit, self.plan))

    def do_save(self, arg: str) -> None:
        """save FILE [force]: save the splits as a preset (refuses to replace a file unless 'force')."""
        parts = self._args(arg, 1, "save FILE [force]")
        path = save_preset(self.plan, parts[0], overwrite=len(parts) > 1 and parts[1] == "force")
        self.say(f"saved {path}")

    def do_load(self, arg: str) -> None:
        """load FILE: load a preset."""
        (path, *_) = self._args(arg, 1, "load FILE")
        self._edit(load_preset(path))

    def do_camera(self, arg: str) -> None:
        """camera [NAME]: list cameras, or switch to NAME (the splits stay: depths are scene units)."""
        name = arg.strip()
        if not name:
            for c in self.cameras:
                self.say(("* " if c is self.cam else "  ") + c.camera)
            return
        for c in self.cameras:
            if c.camera == name:
                c.require_depth()
                self.cam = c
                self._set_prompt()
                self.do_show_splits("")
                return
        raise ValueError(f"no camera {name!r}")

    def do_quit(self, arg: str) -> bool:
        """quit: leave the shell."""
        return True

    do_exit = do_quit

    def do_EOF(self, arg: str) -> bool:
        self.say()
        return True

    def get_names(self) -> list[str]:
        """The names ``help`` lists: EOF is Ctrl-D, not a command (no "Undocumented commands: EOF")."""
        return [n for n in super().get_names() if n != "do_EOF"]
