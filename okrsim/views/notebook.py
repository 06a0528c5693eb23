"""Offline rendering of charts in JupyterLab, Voila and exported notebooks.

Altair's default renderer loads vega from a CDN, so behind a corporate proxy or in a
training room without internet a chart shows only an error.  `notebook_setup` switches to
renderers that bring everything with them: ``jupyter``, interactive charts through
`okrsim.views.chart_widget.SharedJupyterChart` (altair's JupyterChart, with the vega
libraries bundled by vl-convert and sent once per kernel instead of once per chart; works in
JupyterLab and Voila), or the static ``svg`` / ``png`` renderers (vl-convert; for nbconvert
and PDFs).
"""

from __future__ import annotations

import altair as alt

from okrsim.core.errors import ParameterError
from okrsim.views.style import register_theme

__all__ = ["RENDERERS", "notebook_setup"]

#: Renderers that work without network access.
RENDERERS: tuple[str, ...] = ("jupyter", "svg", "png")


def notebook_setup(renderer: str = "jupyter", theme: bool = True) -> str:
    """Make altair render offline and in the house style; call once at the top of a notebook.

    Parameters
    ----------
    renderer : {"jupyter", "svg", "png"}
        ``jupyter`` (default) renders interactive charts through okrsim's
        `~okrsim.views.chart_widget.SharedJupyterChart` (the altair renderer ``"okrsim"``): the
        vega libraries travel once per kernel, so no chart can miss anywidget's 2 s
        initialisation deadline as altair's own offline ``jupyter`` renderer can with several
        charts on a page; ``svg`` and ``png`` render static pictures in the kernel with
        vl-convert.  The ``mimetype`` and ``html`` renderers are refused: the first emits
        Vega-Lite v6, which JupyterLab 4 cannot draw, the second needs a CDN (or, inlined,
        draws only the first chart of a page).
    theme : bool
        Enable the okrsim altair theme (fonts and sizes; colours are in the charts).

    Returns
    -------
    str
        A one-line confirmation, stable between runs so that notebook tests can compare it.
    """
    if renderer not in RENDERERS:
        raise ParameterError(f"renderer = {renderer!r} does not work offline; valid renderers are {', '.join(RENDERERS)}")
    if renderer == "jupyter":
        from okrsim.views.chart_widget import RENDERER

        alt.renderers.enable(RENDERER)
    else:
        alt.renderers.enable(renderer)
    if theme:
        register_theme(enable=True)
    return f"okrsim: altair renders offline with the {renderer!r} renderer"
