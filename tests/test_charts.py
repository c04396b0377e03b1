"""The one chart model (views._charts): the SVG picture (while playing or training) and the Plotly
figure (paused) draw the same series, ranges, labels and colours, in the theme's sizes."""

import re

import numpy as np
import pytest

from views import _charts, _theme
from views._charts import Bars, Chart, Series, figure, grid_figure, grid_svg, svg
from views._svg import text_width


@pytest.fixture(params=["normal", "projector"])
def theme(request, monkeypatch):
    th = _theme.THEMES[request.param]
    monkeypatch.setattr(_charts, "current", lambda: th)
    return th


def two_lines() -> Chart:
    x = np.arange(10.0)
    y = np.linspace(0.0, 2.0, 10)
    y[3] = np.nan  # a missing value is left out by both
    return Chart("Losses", [Series("loss_D", x, y, _theme.D_COLOR, "dash", width=3, errors=np.full(10, 0.1)),
                            Series("raw", x, y + 1, _theme.GEN_COLOR, width=1, opacity=0.25, legend=False),
                            Series("loss_G", x, 2 - y, _theme.GEN_COLOR, width=3)],
                 x_title="step", y_title="loss")


def legend_names(picture: str) -> list[str]:
    """The texts drawn right of a legend swatch (a short path) in a single chart's picture."""
    return re.findall(r'<path d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+" fill="none" [^>]*/><text [^>]*>([^<]+)</text>', picture)


def test_both_renderers_draw_the_same_series_titles_and_legend(theme):
    chart = two_lines()
    fig, picture = figure(chart), svg(chart)
    lines = [tr for tr in fig.data if tr.mode == "lines"]
    assert [tr.name for tr in lines] == ["loss_D", "raw", "loss_G"]
    assert [tr.name for tr in lines if tr.showlegend] == legend_names(picture) == ["loss_D", "loss_G"]
    for tr, s in zip(lines, chart.series):
        keep = np.isfinite(np.asarray(s.y, dtype=float))
        assert tr.x == tuple(np.asarray(s.x)[keep]) and np.allclose(tr.y, np.asarray(s.y)[keep], atol=1e-4)  # rounded for the payload
        assert tr.line.color == s.color
    assert fig.layout.title.text == "Losses" and fig.layout.xaxis.title.text == "step"
    assert fig.layout.yaxis.title.text == "loss"
    for text in ("Losses", "step", "loss"):
        assert f">{text}</text>" in picture
    band = [tr for tr in fig.data if tr.fill == "toself"]
    assert len(band) == 1 and picture.count('fill-opacity="0.18"') == 1  # loss_D's error band, in both
    assert 'stroke-dasharray' in picture and lines[0].line.dash == "dash"
    assert f'stroke-width="{3 * theme.line_scale:g}"' in picture and lines[0].line.width == 3 * theme.line_scale
    assert f'font-size="{theme.title}"' in picture and fig.layout.title.font.size == theme.title


def test_a_fixed_range_a_right_axis_and_a_reference_line_are_the_same_in_both(theme):
    x = [100, 200, 300]
    chart = Chart("Quality", [Series("classes", x, [3, 6, 9], _theme.GEN_COLOR, markers=True),
                              Series("confident", x, [0.2, 0.5, 0.9], "black", "dot", right=True, markers=True)],
                  x_title="step", y_title="classes", y_range=(0.0, 10.0), hline=(5.0, "half", "#999", "dash"))
    fig, picture = figure(chart), svg(chart)
    assert list(fig.layout.yaxis.range) == [0.0, 10.0] and list(fig.layout.yaxis2.range) == [0, 1]
    assert [tr.yaxis for tr in fig.data] == ["y", "y2"]
    assert ">10</text>" in picture and ">0</text>" in picture  # the fixed range's ends, as ticks
    assert ">100%</text>" in picture and fig.layout.yaxis2.tickformat == ".0%"  # the right axis, as shares
    assert picture.count("<circle") == 6 and all(tr.mode == "lines+markers" for tr in fig.data)
    assert fig.layout.shapes[0].y0 == 5.0 and fig.layout.annotations[0].text == "half" and ">half</text>" in picture


def test_bars_with_percent_ticks_in_both():
    shares = [0.5, 0.3, 0.2, 0.0]
    chart = Chart("Classes", x_title="class", y_title="share", y_percent=True,
                  bars=Bars(["0", "1", "2", "3"], shares, _theme.GEN_COLOR), hline=(0.25, "balanced", "black", "dot"))
    fig, picture = figure(chart), svg(chart)
    assert list(fig.data[0].x) == ["0", "1", "2", "3"] and list(fig.data[0].y) == shares
    assert len(re.findall(rf'<rect [^>]*fill="{_theme.GEN_COLOR}"', picture)) == 4
    assert fig.layout.yaxis.tickformat == ".0%" and re.search(r">\d+%</text>", picture)


@pytest.mark.parametrize("theme_name", ["normal", "projector"])
def test_a_long_legend_wraps_inside_the_picture(monkeypatch, theme_name):
    th = _theme.THEMES[theme_name]
    monkeypatch.setattr(_charts, "current", lambda: th)
    names = ["판별자 손실 (D의 손실, 평활)", "생성자 손실 (G의 손실, 평활)", "진짜 이미지에 대한 D(x)"]
    chart = Chart("손실", [Series(n, [0, 1], [0, 1], "black") for n in names], x_title="단계", y_title="손실")
    picture = svg(chart)
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', picture).group(1))
    for x, size, text in re.findall(r'<text x="([\d.]+)"[^>]*font-size="(\d+)">([^<]+)</text>', picture):
        assert float(x) + text_width(text, float(size)) <= width + 1, text
    assert legend_names(picture) == names


def test_a_grid_draws_every_chart_with_its_title_and_its_lines_in_both(theme):
    steps = np.arange(5.0)
    charts = [Chart("JS", [Series("JS", steps, steps / 10, "#8e44ad", errors=np.full(5, 0.01))], "updates",
                    y_range=(0, 0.7)),
              Chart("losses", [Series("loss_D", steps, steps, _theme.D_COLOR),
                               Series("loss_G", steps, -steps, _theme.GEN_COLOR, "dash")], "updates"),
              Chart("empty", [Series("x", [], [], "black")], "updates")]
    fig, picture = grid_figure(charts, 2, 0.55), grid_svg(charts, 2, 1100, 0.55)
    assert [a.text for a in fig.layout.annotations] == ["JS", "losses", "empty"]
    for c in charts:
        assert f">{c.title}</text>" in picture
    named = [tr for tr in fig.data if tr.name]
    assert [tr.name for tr in named] == ["JS", "loss_D", "loss_G", "x"]
    assert [tr.showlegend for tr in named] == [False, True, True, False]  # a lone line is named by its chart
    assert ">loss_D</text>" in picture and ">loss_G</text>" in picture and ">JS</text>" in picture
    assert list(fig.layout.yaxis.range) == [0, 0.7]
    assert fig.layout.xaxis3.title.text == "updates" and fig.layout.xaxis.title.text is None  # the last row's
    assert picture.count(">updates</text>") == 1
    assert fig.layout.height == round(theme.figure_height * 0.55) * 2 + 40
    assert f'viewBox="0 0 1100 {round(theme.figure_height * 0.55) * 2}"' in picture
