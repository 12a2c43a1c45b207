"""The one prompt module: keyword table, sanitiser, composer, section counter.

Regional Prompter (hako-mikan/sd-webui-regional-prompter @ be62345) splits a prompt at its keywords
matched as case-sensitive **substrings** (``str.count`` / ``str.replace`` in scripts/rp.py and
scripts/regions.py), and switches to Prompt mode when ``"ADDP" in prompt.upper()``. A keyword inside
user text (a description, the base prompt) would shift every region after it, so :func:`sanitize`
neutralises them: the keyword substring is lower-cased (``STANDARD`` -> ``STandARD``, ``BREAK`` ->
``break``) and ``ADDP`` in any case gets a hyphen (``add-p``). Everything else (weights, case) is
kept, except that unbalanced ``( ) [ ]`` are escaped so emphasis cannot leak into later sections.

Mask mode binds the k-th palette colour present in the mask to the k-th region section after the
base: :func:`compose` makes ``base BREAK s0 BREAK s1 ...`` (or ``base ADDCOMM s0 BREAK s1 ...``
without "use base"), :func:`count_sections` counts what RP will see and :func:`check_sections`
says whether a (possibly hand-edited) prompt fits the regions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Regional Prompter's separator keywords (scripts/regions.py ``ALLALLKEYS``), matched as substrings.
RP_KEYWORDS = ("ADDCOMM", "ADDBASE", "ADDCOL", "ADDROW", "ADDP", "BREAK", "AND")
#: The keywords that start a new section in Mask mode.
SECTION_KEYWORDS = ("BREAK", "ADDCOMM", "ADDBASE")
#: Keywords matched case-sensitively; ``ADDP`` is matched in any case.
_CASED = tuple(sorted((k for k in RP_KEYWORDS if k != "ADDP"), key=len, reverse=True))
_CASED_RE = re.compile("|".join(_CASED))
_ADDP = re.compile(r"(?i)(add)(p)")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PAIRS = {")": "(", "]": "["}


def keywords_in(text: str) -> list[str]:
    """The RP keywords ``text`` holds (``ADDP`` in any case), in table order."""
    upper = text.upper()
    return [k for k in RP_KEYWORDS if (k in upper if k == "ADDP" else k in text)]


def escape_unbalanced(text: str) -> tuple[str, bool]:
    """Backslash-escape ( ) [ ] that have no partner, so A1111's attention syntax cannot leak
    emphasis from one section into the sections after it. Returns (text, whether anything changed)."""
    stack: list[tuple[str, int]] = []
    bad: set[int] = set()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c in "([":
            stack.append((c, i))
        elif c in ")]":
            if stack and stack[-1][0] == _PAIRS[c]:
                stack.pop()
            else:
                bad.add(i)
        i += 1
    bad.update(j for _, j in stack)
    if not bad:
        return text, False
    return "".join("\\" + c if j in bad else c for j, c in enumerate(text)), True


def neutralise(text: str) -> str:
    """``text`` with every RP keyword substring made harmless (see the module doc)."""
    out = _CASED_RE.sub(lambda m: m.group(0).lower(), text)
    return _ADDP.sub(r"\1-\2", out)


def sanitize(text: object, warnings: list[str] | None = None, what: str = "description") -> str:
    """Make untrusted text safe inside one Regional Prompter section: newlines, tabs and control
    characters become spaces (runs collapse, ends stripped), RP keywords are neutralised as
    substrings, unbalanced brackets escaped. Each kind of fix appends one warning to ``warnings``."""
    s = "" if text is None else str(text)
    s = _SPACES.sub(" ", _CONTROL.sub(" ", s)).strip()
    found = keywords_in(s)
    s = neutralise(s)
    s, escaped = escape_unbalanced(s)
    if warnings is not None:
        if found:
            warnings.append(
                f"{what} held {', '.join(found)}; neutralised (Regional Prompter would split the prompt "
                "there and shift every region after it)"
            )
        if escaped:
            warnings.append(f"{what} {s[:60]!r}: unbalanced brackets escaped")
    return s


def compose(base: str, sections: Sequence[str], use_base: bool) -> tuple[str, bool]:
    """Regional Prompter Mask-mode prompt from sanitised parts. Returns (prompt, use_common).

    * use_base: ``base BREAK s0 BREAK s1 ...``: the base is RP's base prompt (everywhere at the base
      ratio, and alone on unclaimed black pixels); the base section is there even when empty;
    * not use_base, base text given: ``base ADDCOMM s0 BREAK s1 ...`` with RP's "use common" on, so
      the base text is still prefixed to every region instead of becoming region 0;
    * not use_base, no base text: ``s0 BREAK s1 ...`` (black pixels join region 0, RP's rule).

    No sections: the plain base prompt.
    """
    regions = " BREAK ".join(s.strip() for s in sections)
    base = base.strip()
    if not sections:
        return base, False
    if use_base:
        return f"{base} BREAK {regions}".strip(), False
    if base:
        return f"{base} ADDCOMM {regions}", True
    return regions, False


def flat(base: str, sections: Sequence[str]) -> str:
    """The flat prompt used without Regional Prompter: ``base, s0, s1, ...`` (empty parts skipped)."""
    return ", ".join(p for p in (base.strip(), *(s.strip() for s in sections)) if p)


def count_sections(prompt: str) -> int:
    """Sections Regional Prompter sees in Mask mode: separators (BREAK, ADDCOMM, ADDBASE) + 1."""
    return sum(prompt.count(k) for k in SECTION_KEYWORDS) + 1


def expected_sections(prompt: str, regions: int, use_base: bool = True) -> int:
    """Sections a prompt for ``regions`` regions needs: one per region, plus the base (use base on)
    or the common part (an ``ADDCOMM`` prompt)."""
    if regions == 0:
        return 1
    return regions + (1 if use_base or "ADDCOMM" in prompt else 0)


def check_sections(prompt: str, regions: int, use_base: bool = True) -> tuple[bool, str]:
    """Does ``prompt`` fit ``regions`` regions? (ok, message). Regional Prompter binds the k-th colour
    to the k-th section after the base; more colours than sections fails, fewer wastes them."""
    text = prompt or ""
    sections = count_sections(text)
    expected = expected_sections(text, regions, use_base)
    other = [k for k in keywords_in(text) if k not in SECTION_KEYWORDS]
    extra = (
        f"; it also holds {', '.join(other)}, which Regional Prompter treats as separators" if other else ""
    )
    if regions == 0:
        ok = sections == 1 and not other
        return (
            ok,
            "no regions: a plain prompt"
            if ok
            else f"no regions, but the prompt has {sections} sections{extra}",
        )
    head = "base + " if expected > regions else ""
    if sections == expected and not other:
        return True, f"{sections} sections = {head}{regions} regions"
    return False, (
        f"the prompt has {sections} sections, but {regions} regions need {expected} ({head}one per region){extra}"
    )


__all__ = [
    "RP_KEYWORDS",
    "SECTION_KEYWORDS",
    "check_sections",
    "compose",
    "count_sections",
    "escape_unbalanced",
    "expected_sections",
    "flat",
    "keywords_in",
    "neutralise",
    "sanitize",
]
