"""Charts drawn on the server as plain SVG: rectangles and text whose sizes are computed
here, coloured by classes from static/app.css, so they hold under the strict CSP (no script,
no inline style) and scale to a phone's width. Each chart's figures are also in the table
beside it, which is its text alternative."""
from dataclasses import dataclass

WIDTH = 400
ROW = 34        # one bar: its label above, the bar below
LABEL = 12
BAR = 14


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    series: int
    value: int


@dataclass(frozen=True)
class Bar:
    y: int
    label: str
    segments: list[Segment]
    total: int


def layout(chart) -> tuple[int, list[Bar]]:
    """The chart's height and its bars, each bar's segments laid end to end, scaled so that
    the longest bar fills the width."""
    longest = max((sum(values) for _label, values in chart.bars), default=0) or 1
    bars = []
    for i, (label, values) in enumerate(chart.bars):
        x, segments = 0.0, []
        for series, value in enumerate(values):
            if value > 0:
                width = round(WIDTH * value / longest, 2)
                segments.append(Segment(round(x, 2), width, series, value))
                x += width
        bars.append(Bar(i * ROW, label, segments, sum(values)))
    return max(ROW, len(bars) * ROW), bars
