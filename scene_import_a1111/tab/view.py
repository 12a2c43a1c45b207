"""Small formatting helpers shared by the tab's sections (no gradio components here)."""

from __future__ import annotations

from typing import Any


def gr_escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def camera_list_md(rows: list[dict[str, Any]]) -> str:
    """One compact line per camera: what it holds."""
    lines = []
    for r in rows:
        side = f" · sidecar {gr_escape(r['sidecar'])}" if r.get("sidecar") else ""
        lines.append(
            f"**{gr_escape(r['camera'])}** · {r['layout']} · {r['size']} · depth {r['depth']} · "
            f"no-hit {r['no-hit'] or 'n/a'}{side} · passes: {gr_escape(r['passes'])}"
        )
    return "\n\n".join(lines)


def unit_of(summary: dict[str, Any]) -> str:
    d = str(summary.get("depth", ""))
    return "cm" if d.endswith("cm") else ""


def swatch_html(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<div class='scene-import-legend'>no regions</div>"
    items = []
    for r in rows:
        c = tuple(r["color"])
        objs = ", ".join(r.get("objects") or [])
        items.append(
            f"<span class='scene-import-swatch' style='background: rgb{c}'></span>"
            f"<b>{r['number']}</b> rgb{c} {gr_escape(objs)}"
        )
    return "<div class='scene-import-legend'>" + "<br>".join(items) + "</div>"


def num_or_none(v: object) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def int_or_none(v: object) -> int | None:
    f = num_or_none(v)
    return None if f is None else int(round(f))


def rows_of(value: object) -> list[list[Any]]:
    """A Dataframe value as a list of rows (array, pandas frame or {"data": ...})."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        return list(value.values.tolist())
    if isinstance(value, dict):
        return list(value.get("data") or [])
    return [list(r) for r in value]  # type: ignore[attr-defined]


def table(headers: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    """A Dataframe value that keeps its headers when it has no rows (a bare ``[]`` makes gradio
    show the column numbers "0 1 2 3 4" as headers)."""
    return {"headers": list(headers), "data": rows if rows else [["" for _ in headers]]}


def check_md(ok: bool, msg: str) -> str:
    return ("✔ " if ok else "⚠ ") + msg
