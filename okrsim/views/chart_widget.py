"""Interactive altair charts that share one copy of the vega libraries per page.

Why this module exists
----------------------
altair's `JupyterChart` in offline mode (``JupyterChart.enable_offline()``) gives every
chart widget its own ``_esm`` of about 0.9 MB: vega, vega-lite and vega-embed bundled by
``vl_convert.javascript_bundle``.  In the browser anywidget imports that module once per
widget model (a fresh blob URL each time, nothing shared) and rejects the model's
``ready`` promise with "[anywidget] Failed to initialize model." when import plus
``initialize`` take longer than 2 s.  With the explorer's seven charts the imports compile
one after another on the main thread, so on a slow machine the last ones miss that
deadline; a model whose ``ready`` was rejected ignores every later message from the
kernel, and its chart stays frozen when a slider moves.

Here the libraries travel once per kernel and are compiled once per page:

* `VegaLibrary`, a singleton widget created with the first chart and never closed, holds
  the bundle in a trait.  Its ``initialize`` only *starts* the import of the bundle (from a
  blob URL) and returns at once, so it cannot miss anywidget's deadline; when the import
  finishes it resolves a page-global promise keyed by a hash of the bundle (two kernels
  with different library versions in one JupyterLab page never mix).
* `SharedJupyterChart` is altair's `JupyterChart` with a small ``_esm``: altair's own
  ``index.js`` without its ``import`` lines, whose ``render`` first awaits that promise.
  Rendering is not subject to the 2 s deadline, and it does not matter in which order the
  page creates the models (Voila creates all of them at once, JupyterLab one by one as
  cells run).  The Python API is altair's: ``chart_widget.chart = new_chart`` re-renders,
  tooltips, params and selections work as before.
* ``alt.renderers.enable("okrsim")`` displays every altair chart through this widget;
  `okrsim.views.notebook.notebook_setup` enables it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import altair as alt
import anywidget
import traitlets
from altair.jupyter.jupyter_chart import load_js_src

__all__ = ["RENDERER", "SharedJupyterChart", "VegaLibrary", "chart_esm", "render_chart", "shared_library"]

#: Name under which `render_chart` is registered with ``alt.renderers``.
RENDERER = "okrsim"

#: The module-level names altair's index.js imports; the shared library must provide exactly these.
_LIBRARY_NAMES = ("vegaEmbed", "lodashDebounce")

#: How the shared library is exported from the vl-convert bundle (vl-convert resolves the names).
_BUNDLE_SNIPPET = "export { vegaEmbed, lodashDebounce };"

_IMPORT_LINE = re.compile(r"^import\s+(\w+)\s+from\s+(['\"])[^'\"]+\2\s*;?\s*$", re.MULTILINE)
_EXPORT_DEFAULT = re.compile(r"^export\s+default\s*\{\s*render\s*\}\s*;?\s*$", re.MULTILINE)
_RENDER_FUNCTION = re.compile(r"^async function render\s*\(", re.MULTILINE)
_DECLARES_LIBRARY_NAME = re.compile(r"\b(?:let|const|var|function|class)\s+(?:vegaEmbed|lodashDebounce)\b")

#: Page-global registry of library promises, shared by the library widget and every chart module.
#: ``library(key)`` returns the deferred for `key`, creating it if the chart comes first.
_REGISTRY_JS = r"""
const OKRSIM_LIBRARIES = (globalThis.__okrsim_vega_libraries ??= {});
function okrsimLibrary(key) {
    let entry = OKRSIM_LIBRARIES[key];
    if (entry === undefined) {
        let resolve, reject;
        const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
        entry = OKRSIM_LIBRARIES[key] = { promise, resolve, reject, started: false };
    }
    return entry;
}
"""

#: ESM of the library widget: start the import, do not await it (anywidget gives initialize 2 s).
_LIBRARY_ESM = _REGISTRY_JS + r"""
function initialize({ model }) {
    const key = model.get("_key");
    const entry = okrsimLibrary(key);
    if (entry.started) {
        return;  // another kernel of this page (or a restarted kernel) brought the same bundle
    }
    entry.started = true;
    const bundle = model.get("_bundle");
    if (!bundle) {
        const error = new Error("[okrsim] the vega library widget arrived without its bundle");
        console.error(error);
        entry.reject(error);
        return;
    }
    const url = URL.createObjectURL(new Blob([bundle], { type: "text/javascript" }));
    import(/* webpackIgnore: true */ url).then(
        (mod) => entry.resolve({ vegaEmbed: mod.vegaEmbed, lodashDebounce: mod.lodashDebounce }),
        (error) => { console.error("[okrsim] loading the vega libraries failed", error); entry.reject(error); },
    ).finally(() => URL.revokeObjectURL(url));
}

export default { initialize };
"""

#: Wrapper appended to altair's index.js (imports and default export removed).
_CHART_WRAPPER_JS = _REGISTRY_JS + r"""
async function okrsimRender(context) {
    const { model, el } = context;
    const entry = okrsimLibrary(model.get("_library_key"));
    const late = setTimeout(() => {
        el.innerHTML = '<div style="color:#8a1c00;">Waiting for the vega libraries (widget okrsim VegaLibrary)…</div>';
        console.error("[okrsim] the vega libraries have not arrived after 60 s; is the VegaLibrary widget in this page?");
    }, 60000);
    let library;
    try {
        library = await entry.promise;
    } catch (error) {
        el.innerHTML = '<div style="color:red;"><p>JavaScript Error: the vega libraries did not load: '
            + String(error && error.message || error) + '</p></div>';
        return;
    } finally {
        clearTimeout(late);
    }
    el.innerHTML = "";
    vegaEmbed = library.vegaEmbed;
    lodashDebounce = library.lodashDebounce;
    return render(context);
}

export default { render: okrsimRender };
"""


class AltairSourceChanged(RuntimeError):
    """altair's ``jupyter/js/index.js`` (or vl-convert's bundle) no longer has the shape this module rewrites."""


def chart_esm(source: str | None = None) -> str:
    """The chart widget's ``_esm``: altair's index.js rewired to the shared library.

    The ``import`` lines are removed (as altair's ``enable_offline`` does), the names they
    bound become module variables filled from the shared library, and ``render`` is wrapped
    so that it awaits the library first.

    Parameters
    ----------
    source : str, optional
        The JavaScript to rewrite; default altair's installed ``index.js``.

    Returns
    -------
    str
        An ES module of a few kilobytes.

    Raises
    ------
    AltairSourceChanged
        If the source does not import exactly ``vegaEmbed`` and ``lodashDebounce``, has no
        ``async function render(`` or no single ``export default { render }``, or declares
        one of the library names itself.  Rewriting a changed file blindly would give charts
        that fail only in the browser, so the mismatch is raised in the kernel instead.
    """
    src = load_js_src() if source is None else source
    where = f"altair {alt.__version__} jupyter/js/index.js"
    imported = tuple(m.group(1) for m in _IMPORT_LINE.finditer(src))
    if sorted(imported) != sorted(_LIBRARY_NAMES):
        raise AltairSourceChanged(f"{where} imports {list(imported)}; expected exactly {list(_LIBRARY_NAMES)}")
    body = _IMPORT_LINE.sub("", src)
    if re.search(r"^\s*import\b", body, re.MULTILINE):
        raise AltairSourceChanged(f"{where} has an import this module cannot rewrite")
    if len(_EXPORT_DEFAULT.findall(body)) != 1:
        raise AltairSourceChanged(f"{where} does not end with a single 'export default {{ render }}'")
    if not _RENDER_FUNCTION.search(body):
        raise AltairSourceChanged(f"{where} has no 'async function render('")
    if _DECLARES_LIBRARY_NAME.search(body):
        raise AltairSourceChanged(f"{where} declares one of {list(_LIBRARY_NAMES)} itself")
    body = _EXPORT_DEFAULT.sub("", body)
    header = f"let {', '.join(_LIBRARY_NAMES)};  // set from the page's shared vega library before the first render\n"
    return header + body + _CHART_WRAPPER_JS


#: Computed at import so that a changed altair fails here, not in the browser.
_CHART_ESM = chart_esm()


def _build_bundle() -> str:
    """vega, vega-lite, vega-embed and lodash.debounce as one ES module exporting `_LIBRARY_NAMES`."""
    from altair.utils._importers import import_vl_convert, vl_version_for_vl_convert

    bundle = import_vl_convert().javascript_bundle(_BUNDLE_SNIPPET, vl_version=vl_version_for_vl_convert())
    for name in _LIBRARY_NAMES:
        if not re.search(r"export\s*\{[^}]*\b" + name + r"\b[^}]*\}\s*;?\s*$", bundle):
            raise AltairSourceChanged(f"vl-convert's bundle does not export {name!r}")
    return bundle


class VegaLibrary(anywidget.AnyWidget):
    """The vega libraries of a kernel, sent once and imported once per page.

    Never displayed.  Its small ``_esm`` starts importing `_bundle` in ``initialize``
    without awaiting it (anywidget rejects a model whose initialize takes over 2 s) and
    resolves the page-global promise named by `_key`, which every `SharedJupyterChart`
    awaits before rendering.  Use `shared_library` rather than creating one.
    """

    _esm = _LIBRARY_ESM
    _bundle = traitlets.Unicode().tag(sync=True)
    _key = traitlets.Unicode().tag(sync=True)

    def __init__(self, bundle: str, **kwargs: Any):
        key = "vega-" + hashlib.sha256(bundle.encode()).hexdigest()[:16]
        super().__init__(_bundle=bundle, _key=key, **kwargs)

    @property
    def key(self) -> str:
        """Hash of the bundle: the page-global promise the charts of this kernel await."""
        return self._key

    def __repr__(self) -> str:
        return f"VegaLibrary({self._key}, {len(self._bundle):,} characters)"


_library: VegaLibrary | None = None


def shared_library() -> VegaLibrary:
    """The kernel's `VegaLibrary`, created on first use (and again if someone closed it).

    Returns
    -------
    VegaLibrary
        The widget every chart of this kernel refers to by its key.
    """
    global _library
    if _library is None or _library.comm is None:  # a closed widget has no comm
        bundle = _library._bundle if _library is not None else _build_bundle()
        _library = VegaLibrary(bundle)
    return _library


class SharedJupyterChart(alt.JupyterChart):
    """altair's `JupyterChart` drawing with the page's shared vega libraries.

    Same constructor and traits as `alt.JupyterChart` (assign ``.chart`` to re-render;
    ``.params`` and ``.selections`` as in altair).  Its ``_esm`` is a few kilobytes instead
    of 0.9 MB, and it cannot run into anywidget's 2 s initialisation deadline: the library
    is loaded by `VegaLibrary` and awaited in ``render``.  Always offline; no CDN.

    Parameters
    ----------
    chart : alt.TopLevelMixin
        The chart to show.
    **kwargs
        As for `alt.JupyterChart` (``embed_options``, ``debounce_wait``, ...).
    """

    _esm = _CHART_ESM
    _library_key = traitlets.Unicode().tag(sync=True)

    def __init__(self, chart: Any, **kwargs: Any):
        kwargs.setdefault("_library_key", shared_library().key)  # the library's comm opens before the chart's
        super().__init__(chart, **kwargs)

    @classmethod
    def enable_offline(cls, offline: bool = True) -> None:
        """Do nothing: this widget is always offline (altair's would put the whole bundle into ``_esm``)."""
        if not offline:
            raise ValueError("SharedJupyterChart is always offline; use alt.JupyterChart for the CDN version")


def render_chart(spec: dict[str, Any], **metadata: Any) -> Any:
    """altair renderer: display the chart through a `SharedJupyterChart`.

    Mirrors altair's ``jupyter`` renderer (``altair.vegalite.v6.display.jupyter_renderer``):
    the spec is turned back into a chart and shown as a widget, with the renderer's
    ``embed_options`` (``alt.renderers.set_embed_options``) passed on.  ``offline`` is
    accepted and ignored: this renderer never needs the network.

    Parameters
    ----------
    spec : dict
        The Vega-Lite spec altair hands to renderers.
    **metadata
        Renderer options; ``embed_options`` is used.

    Returns
    -------
    tuple of dict or None
        The widget's MIME bundle, as altair's renderer returns it.
    """
    chart = alt.Chart.from_dict(spec)
    return SharedJupyterChart(chart=chart, embed_options=metadata.get("embed_options"))._repr_mimebundle_()


alt.renderers.register(RENDERER, render_chart)
