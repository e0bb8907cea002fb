"""Plotly figures of the result pages, built from the typed report as plain data + layout.

Every builder returns a :class:`Chart`: the figure (rendered in the browser by
``static/js/charts.js`` from a JSON data block) and the same numbers as an accessible
:class:`Table`, so the page is complete without JavaScript and in print. Only SVG trace types
(bar, scatter, heatmap text) are used. Rates are drawn in percent. The statistics behind the
figures (intervals, control limits, marks) all come from :mod:`analytics`.

* :mod:`.ranking`: branches ranked on one item, and the funnel plot;
* :mod:`.answers`: the spread of the options, and the branch × item heat map;
* :mod:`.items`: one group item by item, and two stages side by side.
"""

from survey.results.charts.answers import distribution_chart, heatmap_chart
from survey.results.charts.base import COMPOSITE, Chart, Table
from survey.results.charts.items import dumbbell_chart, items_chart
from survey.results.charts.ranking import funnel_chart, rank_chart

__all__ = [
    "COMPOSITE",
    "Chart",
    "Table",
    "distribution_chart",
    "dumbbell_chart",
    "funnel_chart",
    "heatmap_chart",
    "items_chart",
    "rank_chart",
]
