"""Inline SVG charts for the evaluation report: histograms, bar charts and heatmaps, with no JavaScript."""

from __future__ import annotations

from html import escape

REAL_COLOUR = "#4c72b0"
SYNTHETIC_COLOUR = "#dd8452"
MISSING_COLOUR = "#e5e5e5"
FONT = 'font-family="sans-serif" font-size="10"'


def _shares(counts: list[int], total: int | None = None) -> list[float]:
    total = total if total is not None else sum(counts)
    return [c / total if total else 0.0 for c in counts]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def legend(x: int, y: int) -> list[str]:
    return [
        f'<rect x="{x}" y="{y}" width="10" height="10" fill="{REAL_COLOUR}"/>',
        f'<text x="{x + 14}" y="{y + 9}" {FONT}>real</text>',
        f'<rect x="{x + 50}" y="{y}" width="10" height="10" fill="{SYNTHETIC_COLOUR}"/>',
        f'<text x="{x + 64}" y="{y + 9}" {FONT}>synthetic</text>',
    ]


def histogram(name: str, data: dict) -> str:
    """Real bars and a synthetic outline over the real column's bins; heights are shares of each side's rows."""
    width, height, left, bottom, top = 380, 190, 40, 30, 20
    edges, bins = data["edges"], len(data["real"])
    outside = data.get("synthetic_below", 0) + data.get("synthetic_above", 0)
    real = _shares(data["real"])
    synthetic = _shares(data["synthetic"], sum(data["synthetic"]) + outside)
    peak = max(real + synthetic + [1e-9])
    plot_w, plot_h = width - left - 10, height - top - bottom
    bar_w = plot_w / max(bins, 1)
    body = legend(left, 4)
    for i, (r, s) in enumerate(zip(real, synthetic)):
        x = left + i * bar_w
        h_real, h_syn = plot_h * r / peak, plot_h * s / peak
        tip = f"{edges[i]:.4g} to {edges[i + 1]:.4g}: real {r:.1%}, synthetic {s:.1%}"
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h_real:.1f}" width="{max(bar_w - 1, 0.5):.1f}" '
            f'height="{h_real:.1f}" fill="{REAL_COLOUR}" fill-opacity="0.75"><title>{escape(tip)}</title></rect>'
        )
        body.append(
            f'<rect x="{x + bar_w * 0.2:.1f}" y="{top + plot_h - h_syn:.1f}" width="{max(bar_w * 0.6, 0.5):.1f}" '
            f'height="{h_syn:.1f}" fill="{SYNTHETIC_COLOUR}" fill-opacity="0.8"><title>{escape(tip)}</title></rect>'
        )
    axis_y = top + plot_h
    body.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#333"/>')
    body.append(f'<text x="{left}" y="{axis_y + 14}" {FONT}>{edges[0]:.4g}</text>')
    body.append(f'<text x="{left + plot_w}" y="{axis_y + 14}" {FONT} text-anchor="end">{edges[-1]:.4g}</text>')
    body.append(f'<text x="{left + plot_w / 2}" y="{axis_y + 26}" {FONT} text-anchor="middle">{escape(name)}</text>')
    body.append(f'<text x="{left - 4}" y="{top + 8}" {FONT} text-anchor="end">{peak:.0%}</text>')
    return _svg(width, height, body, f"histogram of {name}, real vs synthetic")


def bar_chart(name: str, data: dict) -> str:
    """Horizontal bars per category: share of real rows above, share of synthetic rows below."""
    labels = data["labels"]
    real, synthetic = _shares(data["real"]), _shares(data["synthetic"])
    left, row_h, top = 150, 22, 20
    width, height = 380, top + row_h * len(labels) + 10
    peak = max(real + synthetic + [1e-9])
    plot_w = width - left - 70  # room for the 'real / synthetic' figures after the longest bar
    body = legend(left, 4)
    for i, label in enumerate(labels):
        y = top + i * row_h
        tip = escape(f"{label}: real {real[i]:.1%}, synthetic {synthetic[i]:.1%}")
        body.append(
            f'<text x="{left - 4}" y="{y + 13}" {FONT} text-anchor="end">{escape(_short(label, 26))}'
            f"<title>{tip}</title></text>"
        )
        for offset, share, colour in ((1, real[i], REAL_COLOUR), (10, synthetic[i], SYNTHETIC_COLOUR)):
            w = plot_w * share / peak
            body.append(
                f'<rect x="{left}" y="{y + offset}" width="{w:.1f}" height="8" fill="{colour}">'
                f"<title>{tip}</title></rect>"
            )
        body.append(f'<text x="{left + plot_w * max(real[i], synthetic[i]) / peak + 3:.1f}" y="{y + 13}" '
                    f'{FONT} fill="#555">{real[i]:.0%} / {synthetic[i]:.0%}</text>')
    return _svg(width, height, body, f"bar chart of {name}, real vs synthetic")


def _colour(value: float | None, low: float, high: float) -> str:
    """White at 0, red towards +1 and blue towards -1 (or white to green for a 0..1 score)."""
    if value is None:
        return MISSING_COLOUR
    t = max(-1.0, min(1.0, value / max(abs(high), abs(low), 1e-9)))
    if low >= 0:  # a score: white (0) to green (1)
        return f"rgb({int(255 - 200 * t)},{int(255 - 80 * t)},{int(255 - 170 * t)})"
    if t >= 0:
        return f"rgb(255,{int(255 - 175 * t)},{int(255 - 190 * t)})"
    return f"rgb({int(255 + 190 * t)},{int(255 + 130 * t)},255)"


def heatmap(title: str, columns: list[str], matrix: list[list[float | None]], low: float, high: float) -> str:
    """A square matrix as coloured cells; each cell's value is in its tooltip, grey cells have none."""
    cell, left, top = 16, 170, 150
    n = len(columns)
    width, height = left + cell * n + 100, top + cell * n + 10  # the last rotated labels lean right
    body = [f'<text x="4" y="14" font-family="sans-serif" font-size="12" font-weight="bold">{escape(title)}</text>']
    for i, name in enumerate(columns):
        label = escape(_short(name, 26))
        body.append(f'<text x="{left - 4}" y="{top + i * cell + 12}" {FONT} text-anchor="end">{label}</text>')
        x = left + i * cell + 11
        body.append(f'<text x="{x}" y="{top - 4}" {FONT} transform="rotate(-60 {x} {top - 4})">{label}</text>')
        for j, value in enumerate(matrix[i]):
            shown = "not scored" if value is None else f"{value:.2f}"
            body.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{_colour(value, low, high)}"><title>{escape(f"{name} × {columns[j]}: {shown}")}</title></rect>'
            )
    return _svg(width, height, body, title)
