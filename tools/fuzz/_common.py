"""Shared set-up of the atheris harnesses: the worktree on sys.path, a scratch folder in memory."""

from __future__ import annotations

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: Scratch files live in RAM when /dev/shm exists (one file per input, rewritten each time).
SCRATCH = tempfile.mkdtemp(prefix="scene-import-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


def scratch_file(name: str, data: bytes) -> str:
    path = os.path.join(SCRATCH, name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path
