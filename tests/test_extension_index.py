"""docs/extension-index/scene-import.json is an entry the A1111 extension index accepts.

The rules are those of AUTOMATIC1111/stable-diffusion-webui-extensions' .github/scripts/validate.py
(validate_entry): keys name, url, description, tags; every tag one of the index's tags (the list in its
extension_template.json @ 1b1b4bf); "added" an ISO date; url an https:// git URL. ``OWNER`` in the url
is replaced with the public repository's owner when the entry is submitted.
"""

from __future__ import annotations

import datetime
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTRY = os.path.join(ROOT, "docs", "extension-index", "scene-import.json")
INDEX_TAGS = {
    "script", "localization", "tab", "dropdown", "ads", "training", "models", "UI related", "prompting",
    "editing", "manipulations", "online", "animation", "query", "science", "extras",
}  # fmt: skip


def test_the_index_entry_passes_the_index_rules():
    with open(ENTRY, encoding="utf-8") as fh:
        entry = json.load(fh)
    assert {"name", "url", "description", "tags"} <= set(entry)
    assert entry["name"] == "Scene Import" and entry["description"].strip()
    assert entry["tags"] and set(entry["tags"]) <= INDEX_TAGS
    assert {"tab", "dropdown"} <= set(entry["tags"])  # what the extension adds to the webui
    datetime.date.fromisoformat(entry["added"])
    assert re.match(r"(https://[^ ]+?)(?:(?:\.git)$|$)", entry["url"])
