"""Server-rendered SVG bar charts: no JavaScript, no CDN, nothing a strict CSP would block."""

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass
class Series:
    name: str
    label: str
    color: str
    values: list


def _nice_top(value: float) -> tuple[float, float]:
    """A round axis maximum (4 gridlines) at or above `value`."""
    if value <= 0:
        return 4.0, 1.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    if step < 1 and magnitude >= 1:
        step = 1
    return step * 4, step


def _format(value, money: bool) -> str:
    if money:
        return f"${Decimal(value):,.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def bar_chart(*, chart_id: str, title: str, days: list[date], series: list[Series], stacked: bool,
              money: bool = False) -> dict:
    """A daily bar chart (stacked or grouped) as inline SVG, with its legend, totals and data rows."""
    count = len(days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if stacked:
        peak = max((sum(float(s.values[i]) for s in series) for i in range(count)), default=0)
    else:
        peak = max((float(v) for s in series for v in s.values), default=0)
    top, step = _nice_top(peak)
    slot = plot_w / max(count, 1)
    parts = [
        f'<svg class="bo-chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):  # gridlines and y labels
        value = step * i
        y = TOP + plot_h - plot_h * value / top
        parts.append(f'<line class="bo-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = _format(value, money) if money else _format(float(value), False)
        parts.append(f'<text class="bo-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    for index, day in enumerate(days):
        x0 = LEFT + slot * index
        if index % 5 == 0 or index == count - 1:
            parts.append(
                f'<text class="bo-axis" x="{x0 + slot / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{day:%m-%d}</text>"
            )
        base = TOP + plot_h
        for position, item in enumerate(series):
            value = float(item.values[index])
            if value <= 0:
                continue
            height = plot_h * value / top
            if stacked:
                width, x = slot * 0.7, x0 + slot * 0.15
                y = base - height
                base = y
            else:
                width = slot * 0.8 / len(series)
                x, y = x0 + slot * 0.1 + width * position, TOP + plot_h - height
            tip = f"{day.isoformat()} {item.label}: {_format(item.values[index], money)}"
            parts.append(
                f'<rect class="bo-bar bo-{escape(item.name)}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{max(height, 0.5):.1f}" fill="{escape(item.color)}"><title>{escape(tip)}</title></rect>'
            )
    parts.append(
        f'<line class="bo-baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    parts.append("</svg>")
    totals = [
        {"label": s.label, "color": s.color, "total": _format(sum(s.values), money)} for s in series
    ]
    rows = [(day, [_format(s.values[i], money) for s in series]) for i, day in enumerate(days)]
    svg: SafeString = mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
    return {"id": chart_id, "title": title, "svg": svg, "legend": totals, "columns": [s.label for s in series],
            "rows": rows}
