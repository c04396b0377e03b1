"""The 2-D page's model overview graph: z -> G -> G(z) -> D <- x -> D(.) -> loss, drawn as an SVG in the
paper's colours (p_g green, p_data black, D blue), beside the view. In slow motion and after a D step or a
G step, the network being updated fills with its colour and its gradient runs back from the loss along
dashed arrows (what lights up is ``gan_core.toy.overview.lighting``); each node's explanation, in the
lecture's terms, is a popover under the picture."""

from __future__ import annotations

import html

import streamlit as st

from gan_core.toy.overview import EDGES, NODES, Lighting, lighting
from views._i18n import t
from views._svg import escape, svg_as_img, text_width
from views._theme import D_COLOR, DATA_COLOR, FONT_FAMILY, GEN_COLOR, Theme, current

# Where each node sits: (column, row). G's side on the left, D's on the right, the loss at the bottom.
PLACES = {"z": (0, 0), "G": (0, 1), "fake": (0, 2), "real": (1, 0), "D": (1, 2), "prediction": (1, 3), "loss": (1, 4)}
COLOURS = {"z": "#666666", "G": GEN_COLOR, "fake": GEN_COLOR, "real": DATA_COLOR, "D": D_COLOR,
           "prediction": D_COLOR, "loss": "#444444"}
NETWORK_COLOURS = {"D": D_COLOR, "G": GEN_COLOR}
SYMBOLS = {"z": "z", "G": "G", "fake": "G(z)", "real": "x", "D": "D", "prediction": "D(·)"}
IDLE, USED, UNUSED = "#555555", "#222222", "#c4c4c4"  # edges: no update shown, in this update's pass, not in it


def _symbol(node: str, light: Lighting) -> str:
    if node == "loss":  # the loss of the network being updated
        return {"D": "loss_D", "G": "loss_G"}.get(light.updated or "", "loss")
    return SYMBOLS[node]


def graph_svg(update: str | None, th: Theme) -> str:
    """The overview graph for an update of ``update`` ("D", "G" or None) as an SVG document."""
    light = lighting(update)
    f, small, ls = th.font, th.tick, th.line_scale
    pad, gap_x, gap_y = 0.6 * f, 1.6 * f, 1.7 * f
    terms = {node: t(f"modes.graph.node.{node}") for node in NODES}
    box_w = max(max(text_width(terms[n], small), text_width(_symbol(n, light), f)) for n in NODES) + 2 * pad
    box_h = 1.1 * f + 1.25 * small + 1.4 * pad
    width = 2 * box_w + gap_x + 2 * pad
    height = 5 * box_h + 4 * gap_y + 2 * pad

    def centre(node: str) -> tuple[float, float]:
        col, row = PLACES[node]
        return pad + box_w / 2 + col * (box_w + gap_x), pad + box_h / 2 + row * (box_h + gap_y)

    def border_point(node: str, towards: str) -> tuple[float, float]:
        """Where the line from ``node``'s centre towards ``towards`` leaves ``node``'s box."""
        (x, y), (tx, ty) = centre(node), centre(towards)
        dx, dy = tx - x, ty - y
        s = min(box_w / 2 / abs(dx) if dx else float("inf"), box_h / 2 / abs(dy) if dy else float("inf"))
        return x + dx * s, y + dy * s

    colours = {IDLE, USED, UNUSED, *NETWORK_COLOURS.values()}
    markers = "".join(
        f'<marker id="head{c[1:]}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>' for c in sorted(colours))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.1f} {height:.1f}" font-family="{html.escape(FONT_FAMILY)}"><defs>{markers}</defs>',
           f'<rect width="100%" height="100%" fill="white"/>']
    for a, b in EDGES:  # the forward pass
        colour = IDLE if light.updated is None else USED if (a, b) in light.forward else UNUSED
        (x0, y0), (x1, y1) = border_point(a, b), border_point(b, a)
        out.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}" '
                   f'stroke-width="{1.6 * ls:g}" marker-end="url(#head{colour[1:]})" data-edge="{a}-{b}"/>')
    if light.updated is not None:  # the gradient, back from the loss, beside the edges it runs along
        colour, offset = NETWORK_COLOURS[light.updated], 0.45 * f
        for a, b in light.gradient:
            (x0, y0), (x1, y1) = border_point(a, b), border_point(b, a)
            length = max(1e-6, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
            nx, ny = -(y1 - y0) / length * offset, (x1 - x0) / length * offset
            out.append(f'<line x1="{x0 + nx:.1f}" y1="{y0 + ny:.1f}" x2="{x1 + nx:.1f}" y2="{y1 + ny:.1f}" '
                       f'stroke="{colour}" stroke-width="{2.4 * ls:g}" stroke-dasharray="{5 * ls:g},{3 * ls:g}" '
                       f'marker-end="url(#head{colour[1:]})" data-gradient="{a}-{b}"/>')
    for node in NODES:
        x, y = centre(node)
        colour, lit = COLOURS[node], node == light.updated
        fill, ink = (colour, "white") if lit else ("white", colour)
        dash = f' stroke-dasharray="{4 * ls:g},{3 * ls:g}"' if node == light.frozen else ""
        top, bottom = y - box_h / 2, y + box_h / 2
        out.append(f'<g data-node="{node}"><rect x="{x - box_w / 2:.1f}" y="{top:.1f}" width="{box_w:.1f}" '
                   f'height="{box_h:.1f}" rx="{0.4 * f:.1f}" fill="{fill}" stroke="{colour}" '
                   f'stroke-width="{(3.2 if lit else 1.6) * ls:g}"{dash}/>'
                   f'<text x="{x:.1f}" y="{top + 0.7 * pad + 0.9 * f:.1f}" text-anchor="middle" font-size="{f}" '
                   f'font-weight="bold" fill="{ink}">{escape(_symbol(node, light))}</text>'
                   f'<text x="{x:.1f}" y="{bottom - 0.7 * pad - 0.25 * small:.1f}" text-anchor="middle" '
                   f'font-size="{small}" fill="{ink}">{escape(terms[node])}</text>')
        if node == light.frozen:  # over its box's right corner, clear of the edge into its middle
            out.append(f'<text x="{x + box_w / 2:.1f}" y="{top - 0.4 * pad:.1f}" text-anchor="end" '
                       f'font-size="{small}" font-style="italic" fill="{colour}">{escape(t("modes.graph.fixed"))}</text>')
        out.append("</g>")
    # The key, in the left column's free rows: a forward edge and a gradient.
    kx, ky = pad, pad + 3 * (box_h + gap_y) + 0.5 * box_h
    grad = NETWORK_COLOURS.get(light.updated or "", D_COLOR)
    for i, (label, style) in enumerate(((t("modes.graph.forward"), f'stroke="{USED}"'),
                                        (t("modes.graph.gradient"),
                                         f'stroke="{grad}" stroke-dasharray="{5 * ls:g},{3 * ls:g}"'))):
        yy = ky + i * 1.6 * small
        out.append(f'<line x1="{kx:.1f}" y1="{yy:.1f}" x2="{kx + 1.6 * f:.1f}" y2="{yy:.1f}" {style} '
                   f'stroke-width="{2.2 * ls:g}"/><text x="{kx + 2 * f:.1f}" y="{yy + 0.35 * small:.1f}" '
                   f'font-size="{small}" fill="#222">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def graph_html(update: str | None) -> str:
    """The graph as an image (``st.html`` keeps a data-URI image, not inline SVG) and, under it, what the
    update shown does, in words."""
    th = current()
    status = t(f"modes.graph.status.{update or 'none'}")
    colour = NETWORK_COLOURS.get(update or "", "rgba(49,51,63,0.75)")
    return (f'<div class="modes-graph">{svg_as_img(graph_svg(update, th), alt=html.escape(t("modes.graph.alt")))}'
            f'<p style="margin:0.4rem 0 0;font-size:{th.tick}px;line-height:1.3;color:{colour}">'
            f'{html.escape(status)}</p></div>')


def explanations() -> None:
    """A popover per node with what it is, in the lecture's terms."""
    row = st.container(horizontal=True, key="modes_graph_help", vertical_alignment="center")
    row.caption(t("modes.graph.help"))
    for node in NODES:
        with row.popover(SYMBOLS.get(node, t("modes.graph.loss_symbol")), key=f"modes_graph_{node}"):
            st.markdown(t(f"modes.graph.explain.{node}"))
