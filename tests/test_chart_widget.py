"""The offline chart widget: small per-chart modules, one shared vega library per kernel.

What the browser does with these modules is tested in tests/browser/ (every chart of the
Voila dashboard initialises and follows a slider); here the kernel side: the rewrite of
altair's JavaScript, the library singleton, and the renderer that notebooks use.
"""

from __future__ import annotations

import altair as alt
import pytest
from altair.jupyter.jupyter_chart import load_js_src

from okrsim.views import chart_widget as cw
from okrsim.views.notebook import notebook_setup


def _chart() -> alt.Chart:
    return alt.Chart(alt.Data(values=[{"x": 1, "y": 2}])).mark_point().encode(x="x:Q", y="y:Q", tooltip=["x:Q"])


def test_a_chart_module_is_small_and_imports_nothing():
    esm = cw.chart_esm()
    assert len(esm) < 20_000  # altair's offline module is about 900,000 characters, once per chart
    assert not [line for line in esm.splitlines() if line.startswith("import ")]
    assert "export default { render: okrsimRender };" in esm
    assert "let vegaEmbed, lodashDebounce;" in esm
    assert "async function render(" in esm  # altair's own render, kept as it is


@pytest.mark.parametrize("change, problem", [
    (lambda s: s.replace('import lodashDebounce from', 'import debounce from'), "imports"),
    (lambda s: s.replace("export default { render }", "export default { render, initialize }"), "export default"),
    (lambda s: s.replace("async function render(", "async function draw("), "render"),
    (lambda s: s + "\nconst vegaEmbed = null;\n", "declares"),
    (lambda s: s + '\nimport "./other.js";\n', "import"),
])
def test_a_changed_altair_source_is_refused_in_the_kernel(change, problem):
    source = load_js_src()
    cw.chart_esm(source)  # the installed source is accepted
    with pytest.raises(cw.AltairSourceChanged, match=problem):
        cw.chart_esm(change(source))


def test_the_library_is_one_widget_per_kernel_with_the_bundle():
    lib = cw.shared_library()
    assert cw.shared_library() is lib
    assert len(lib._bundle) > 500_000 and "vegaEmbed" in lib._bundle
    assert lib.key.startswith("vega-") and len(lib.key) == 5 + 16
    lib.close()  # someone closed it: the next chart gets a new one with the same bundle and key
    again = cw.shared_library()
    assert again is not lib and again.key == lib.key and again.comm is not None


def test_charts_refer_to_the_library_and_keep_altairs_api():
    chart = cw.SharedJupyterChart(_chart(), embed_options={"renderer": "svg"})
    assert chart._library_key == cw.shared_library().key
    assert len(chart._esm) < 20_000
    assert chart.spec["mark"]["type"] == "point"
    chart.chart = _chart().mark_line()  # assigning a chart re-renders, as with altair's widget
    assert chart.spec["mark"]["type"] == "line"
    with pytest.raises(ValueError, match="always offline"):
        cw.SharedJupyterChart.enable_offline(False)


def test_notebook_setup_displays_charts_through_the_shared_widget():
    renderer, theme = alt.renderers.active, alt.theme.active  # global state: put it back for other tests
    notebook_setup(theme=False)
    try:
        assert alt.renderers.active == cw.RENDERER
        bundle = _chart()._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert "application/vnd.jupyter.widget-view+json" in data
        assert "SharedJupyterChart" in data["text/plain"]
    finally:
        alt.renderers.enable(renderer)
        alt.theme.enable(theme)
