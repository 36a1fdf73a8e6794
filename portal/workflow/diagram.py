"""An SVG state diagram drawn from a workflow definition (no external service, no JavaScript).

States stand in a row in the order they are first reached from the initial state. Transitions
that move forward arc above the row, those that move back arc below it, and transitions that
stay in their state loop above it. Labels are escaped; the output is safe to inline.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from workflows import Workflow

BOX_W, BOX_H, GAP = 130, 44, 70
TOP = 150  # room for forward arcs and loops above the row


def _order(wf: Workflow) -> list[str]:
    order, frontier = [wf.initial], [wf.initial]
    while frontier:
        current = frontier.pop(0)
        for t in wf.transitions_from(current):
            if t.dest and t.dest not in order:
                order.append(t.dest)
                frontier.append(t.dest)
    return order


def render_svg(wf: Workflow, lang: str = "zh") -> str:
    order = _order(wf)
    x_of = {s: 20 + i * (BOX_W + GAP) for i, s in enumerate(order)}
    width = 40 + len(order) * (BOX_W + GAP) - GAP
    height = TOP + BOX_H + 150
    title = (lambda o: o.title_zh) if lang.startswith("zh") else (lambda o: o.title_en)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13" aria-label="{escape(title(wf))}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
    ]
    for s in wf.states:
        x = x_of[s.id]
        stroke = 3 if s.id == wf.initial else 1.5
        parts.append(
            f'<g class="state" data-state="{escape(s.id)}"><rect x="{x}" y="{TOP}" '
            f'width="{BOX_W}" height="{BOX_H}" rx="8" fill="#fff5f5" stroke="#b02a37" '
            f'stroke-width="{stroke}"/><text x="{x + BOX_W / 2}" y="{TOP + BOX_H / 2 + 5}" '
            f'text-anchor="middle">{escape(title(s))}</text></g>'
        )
    for n, t in enumerate(wf.transitions):
        for source in t.sources:
            parts.append(_edge(t, source, x_of, n, escape(title(t))))
    parts.append("</svg>")
    return "".join(parts)


def _edge(t, source: str, x_of: dict[str, int], n: int, label: str) -> str:
    dash = ' stroke-dasharray="5,4"' if t.automatic else ""
    cls = f'class="transition" data-transition="{escape(t.id)}"'
    if t.dest is None:
        cx = x_of[source] + BOX_W / 2
        path = f"M{cx - 20},{TOP} C{cx - 45},{TOP - 55} {cx + 45},{TOP - 55} {cx + 20},{TOP}"
        lx, ly = cx, TOP - 48
    else:
        x1, x2 = x_of[source] + BOX_W / 2, x_of[t.dest] + BOX_W / 2
        forward = x2 > x1
        span = abs(x2 - x1) / (BOX_W + GAP)
        lift = 30 + 22 * span + 6 * (n % 3)
        y = TOP if forward else TOP + BOX_H
        ctrl = y - lift * 2 if forward else y + lift * 2
        path = f"M{x1 + (8 if forward else -8)},{y} Q{(x1 + x2) / 2},{ctrl} {x2},{y}"
        lx, ly = (x1 + x2) / 2, (y - lift + 4) if forward else (y + lift + 4)
    return (
        f'<g {cls}><path d="{path}" fill="none" stroke="#555" stroke-width="1.3"'
        f'{dash} marker-end="url(#arrow)"/><text x="{lx}" y="{ly}" text-anchor="middle" '
        f'fill="#333" paint-order="stroke" stroke="#fff" stroke-width="4">{label}</text></g>'
    )
