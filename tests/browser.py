"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium, never a downloaded one."""

import os

CHROMIUM = os.environ.get("SCENE_IMPORT_CHROMIUM", "/usr/bin/chromium")
# no background networking: this machine's closed network refuses those connections
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
