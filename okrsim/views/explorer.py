"""The interactive explorer: every lever as a control, charts and a KPI table that follow.

This is the only module that imports ipywidgets.  Controls are generated from
`okrsim.core.registry.REGISTRY` (Mesa-style), so the explorer offers exactly the parameters the
model has, with their ranges, units and meanings, and validates typed values with the same
code as files and the command line.  Simulation and data preparation are in
`okrsim.views.panels`; the charts are `okrsim.views.charts`.

Three things make it usable in front of a client:

* updates are quick: runs are cached per policy (moving one policy's lever re-runs only
  that policy), batches run in a small process pool, and only the visible chart is redrawn;
* dragging does not flood the kernel: sliders report on release (``continuous_update=False``)
  and changes are debounced, so a burst of key presses costs one update;
* bad input never destroys the picture: a typed value outside the valid range is refused
  with a message naming parameter, value and range, and the last valid result stays.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W
import yaml

from okrsim.core.errors import ParameterError
from okrsim.core.params import POLICY_PRESETS, SCENARIO_PRESETS, Policy, Scenario
from okrsim.core.registry import EFFECTS, POLICY_SECTION, REGISTRY, ParamSpec
from okrsim.core.values import parse_text
from okrsim.experiments.executors import Evaluator, default_workers, open_evaluator
from okrsim.views.chart_widget import SharedJupyterChart
from okrsim.views.charts import CHARTS, panel_charts
from okrsim.views.panels import STORIES, Panel, RunCache, Settings, build_panel
from okrsim.views.report import FORMATS, TABLE_CSS, comparison_report, kpi_table_html, save_chart

__all__ = ["FOCUS", "Explorer", "Focus", "ParamControl", "resolve_focus"]

_LABEL_WIDTH = "11.5em"
_CSS = TABLE_CSS + """
.okrsim-error { color: #8a1c00; background: #fde8e0; border-left: 4px solid #D55E00; padding: 4px 8px; }
.okrsim-status { color: #444; }
.okrsim-unit { color: #666; font-size: 12px; white-space: nowrap; }
.okrsim-explorer .lm-TabBar-tab { flex: 0 1 auto !important; min-width: 48px !important; max-width: none !important; }
.okrsim-controls > .widget-tab-contents { max-height: max(14em, calc(100vh - 290px)); overflow-y: auto;
  overscroll-behavior: contain; }
@media (max-width: 1199px) { .okrsim-controls > .widget-tab-contents { max-height: max(12em, 32vh); } }
"""
#: Why the control tabs scroll on their own (`_CSS`): a long tab (the ideas' 33 parameters, a
#: policy's levers) would otherwise push the page down, and the room would watch the controls
#: instead of the charts.  The panel is capped at the viewport's height less the header above
#: it (about 290 px in the dashboard at 1366x768 and 1920x1080), so every slider is reached by scrolling the panel
#: while the charts beside it stay where they are; below 1200 px the charts wrap under the
#: controls, and the panel is capped at a third of the height to keep them in view there too.

#: Short tab labels for the charts (reports use the longer titles of `okrsim.views.charts.CHARTS`).
TAB_LABELS: dict[str, str] = {"value": "Value", "advantage": "Advantage", "kpis": "All KPIs", "capacity": "Capacity",
                              "adaptation": "Adaptation", "learning": "Learning", "scorecards": "OKR scorecards"}

#: Run settings shown as controls, described like registry parameters so they get the same
#: widgets and the same validation messages.
RUN_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("run", "replications", "int", 30, 2, 500, "replications",
              "paired replications per policy (common random numbers)"),
    ParamSpec("run", "seed", "int", 0, 0, 2**31 - 1, "", "master seed: the same seed gives the same results"),
    ParamSpec("run", "example_replication", "int", 0, 0, 499, "",
              "replication shown in the single-run charts (themes, scorecards)"),
)


@dataclass(frozen=True)
class Focus:
    """What a focused explorer shows: a few world parameters, a few levers, a few charts.

    Attributes
    ----------
    name : str
        Shown above the controls (an effect's name, or ``"custom"``).
    world : tuple of str
        Dotted keys of the world parameters shown (``market.shift_rate``).
    levers : tuple of str
        Lever names shown for both policies (``cadence_weeks``).
    charts : tuple of str
        Keys of `okrsim.views.charts.CHARTS` shown, in this order.
    """

    name: str
    world: tuple[str, ...]
    levers: tuple[str, ...]
    charts: tuple[str, ...]


def _effect_levers(effect: str) -> tuple[str, ...]:
    return tuple(p.name for p in REGISTRY if p.section == POLICY_SECTION and p.effect == effect)


#: The focused explorer of each effect (``Explorer(focus="agility")``): every lever of the
#: effect (from the registry, costs included), the world parameters that decide whether the
#: effect pays, and the charts that make it visible.  The teaching notebooks use these.
FOCUS: dict[str, Focus] = {
    "agility": Focus("agility", ("market.shift_rate", "portfolio.idea_rate", "market.detection_lag_weeks"),
                     _effect_levers("agility"), ("value", "advantage", "adaptation", "kpis")),
    "alignment": Focus("alignment", ("market.shift_rate", "organisation.sponsor_legacy", "organisation.sponsor_spread",
                                     "organisation.local_priority_spread", "portfolio.multi_team_share"),
                       _effect_levers("alignment"), ("capacity", "value", "adaptation", "kpis")),
    "transparency": Focus("transparency", ("portfolio.conflict_rate", "portfolio.conflict_severity",
                                           "portfolio.synergy_rate", "portfolio.synergy_bonus",
                                           "portfolio.dependency_rate", "portfolio.rework_share",
                                           "portfolio.interaction_locality"),
                          _effect_levers("transparency"), ("advantage", "value", "kpis")),
    "learning": Focus("learning", ("portfolio.estimation_noise", "portfolio.assumption_bias", "portfolio.value_sigma"),
                      _effect_levers("learning"), ("learning", "scorecards", "advantage", "kpis")),
}


def resolve_focus(focus: str | Sequence[str] | Focus | None, charts: Sequence[str] | None = None) -> Focus | None:
    """A `Focus` from an effect name, a sequence of dotted keys, or None (no focus: everything shown).

    Keys ``policy.<lever>`` become levers shown for both policies, other keys world
    parameters; `charts` (default: the effect's charts, or all charts for a list of keys)
    chooses the chart tabs.  Unknown names are refused with the valid ones.
    """
    if charts is not None:
        charts = tuple(charts)
        unknown = [c for c in charts if c not in CHARTS]
        if unknown or not charts:
            raise ParameterError(f"charts = {list(charts)!r}: valid charts are {', '.join(CHARTS)}")
    if focus is None:
        return None if charts is None else Focus("custom", (), (), charts)
    if isinstance(focus, Focus):
        out = focus
    elif isinstance(focus, str):
        if focus not in FOCUS:
            raise ParameterError(f"unknown focus {focus!r}; valid foci are {', '.join(FOCUS)} or a list of parameter keys")
        out = FOCUS[focus]
    else:
        from okrsim.core.registry import lookup

        keys = list(focus)
        if not keys:
            raise ParameterError("focus must name at least one parameter")
        world, levers = [], []
        for key in keys:
            spec = lookup(str(key))
            if spec.section == POLICY_SECTION:
                levers.append(spec.name)
            else:
                world.append(spec.key)
        out = Focus("custom", tuple(dict.fromkeys(world)), tuple(dict.fromkeys(levers)), tuple(CHARTS))
    if charts is not None:
        out = Focus(out.name, out.world, out.levers, charts)
    return out


def _format(spec: ParamSpec, value: Any) -> str:
    if spec.kind == "shocks":
        return yaml.safe_dump([list(s) for s in value], default_flow_style=True).strip() if value else "[]"
    if spec.kind == "int":
        return str(int(value))
    return f"{value:.6g}"


def _parse(spec: ParamSpec, text: str) -> Any:
    """Typed text to a value (YAML 1.2, as ``--set`` and files); `ParamSpec.validate` does the range check."""
    return parse_text(spec, text)


def _step(spec: ParamSpec) -> float:
    span = float(spec.high) - float(spec.low)
    return 10 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01


class ParamControl:
    """One parameter as a row of widgets, with validation.

    Numbers get a slider (reports on release) and a box for exact typed values; booleans a
    checkbox; scheduled shocks a text box in YAML list form.  A typed value that fails
    `ParamSpec.validate` is refused: `on_error` receives the message and the box returns to
    the last valid value.

    Parameters
    ----------
    spec : ParamSpec
    value : Any
        Initial (valid) value.
    on_change : callable
        Called with the parameter's key after a valid change made by the user.
    on_error : callable
        Called with the message of a refused value.
    slider : bool
        Show a slider for numbers (seeds, for instance, are typed only).
    """

    def __init__(self, spec: ParamSpec, value: Any, on_change: Callable[[str], None],
                 on_error: Callable[[str], None], slider: bool = True):
        self.spec = spec
        self._value = spec.validate(value)
        self._on_change = on_change
        self._on_error = on_error
        self._quiet = False
        label = W.Label(spec.name.replace("_", " "), layout=W.Layout(width=_LABEL_WIDTH), tooltip=spec.meaning)
        self.slider: W.ValueWidget | None = None
        self.text: W.Text | None = None
        self.checkbox: W.Checkbox | None = None
        parts: list[W.Widget] = [label]
        if spec.kind == "bool":
            self.checkbox = W.Checkbox(value=bool(self._value), indent=False, tooltip=spec.meaning,
                                       layout=W.Layout(width="auto"))
            self.checkbox.observe(self._from_checkbox, "value")
            parts.append(self.checkbox)
        elif spec.kind == "shocks":
            self.text = W.Text(value=_format(spec, self._value), continuous_update=False, tooltip=spec.describe_range(),
                               placeholder="[[52, 0, 0.2], [52, 5, 8]]", layout=W.Layout(width="16em"))
            parts.append(self.text)
        else:
            if slider:
                self.slider = self._make_slider()
                self.slider.observe(self._from_slider, "value")
                parts.append(self.slider)
            self.text = W.Text(value=_format(spec, self._value), continuous_update=False, tooltip=spec.meaning,
                               layout=W.Layout(width="6.5em"))
            parts.append(self.text)
            parts.append(W.HTML(f'<span class="okrsim-unit">{spec.unit}</span>'))
        if self.text is not None:
            self.text.observe(self._from_text, "value")
        self.widget = W.HBox(parts, layout=W.Layout(align_items="center"))
        self.widget.add_class("okrsim-param")
        self.widget.add_class("okrsim-param-" + spec.key.replace(".", "-").replace("_", "-"))

    # widgets --------------------------------------------------------------------------
    def _make_slider(self) -> W.ValueWidget:
        s = self.spec
        common = {"continuous_update": False, "readout": False, "tooltip": s.meaning, "layout": W.Layout(width="12em")}
        assert s.low is not None and s.high is not None
        if s.kind == "int":
            return W.IntSlider(value=int(self._value), min=int(s.low), max=int(s.high), step=1, **common)
        if s.low > 0 and s.high / s.low >= 100:
            lo, hi = math.log10(s.low), math.log10(s.high)
            return W.FloatLogSlider(value=float(self._value), base=10, min=lo, max=hi, step=(hi - lo) / 100, **common)
        return W.FloatSlider(value=float(self._value), min=float(s.low), max=float(s.high), step=_step(s), **common)

    # value ----------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The last valid value."""
        return self._value

    def set_value(self, value: Any) -> None:
        """Set programmatically (presets, reset) without triggering `on_change`."""
        value = self.spec.validate(value)
        self._quiet = True
        try:
            self._value = value
            if self.slider is not None:
                self.slider.value = value
            if self.checkbox is not None:
                self.checkbox.value = bool(value)
            if self.text is not None:
                self.text.value = _format(self.spec, value)
        finally:
            self._quiet = False

    def type_text(self, text: str) -> None:
        """Behave as if the user typed `text` into the box (for tests and scripted demos)."""
        if self.text is None:
            raise ParameterError(f"{self.spec.key} has no text box")
        self.text.value = text

    def _accept(self, value: Any) -> None:
        if value == self._value:
            return
        self._value = value
        self._on_change(self.spec.key)

    def _from_slider(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        try:
            value = self.spec.validate(change["new"])
        except ParameterError as exc:  # a log slider can land a hair outside the range
            self._on_error(str(exc))
            return
        self._quiet = True
        try:
            if self.text is not None:
                self.text.value = _format(self.spec, value)
        finally:
            self._quiet = False
        self._accept(value)

    def _from_checkbox(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._accept(bool(change["new"]))

    def _from_text(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        try:
            value = self.spec.validate(_parse(self.spec, change["new"]))
        except ParameterError as exc:
            self._on_error(f"Refused: {exc}")
            self.set_value(self._value)
            return
        old = self._value
        self.set_value(value)
        if value != old:
            self._on_change(self.spec.key)


def _default_workers() -> int:
    """Two workers where there are two cores: a live demo must leave the kernel and browser room."""
    return min(2, default_workers())


class Explorer:
    """Compare two policies interactively; every parameter is a control.

    Parameters
    ----------
    story : str
        A key of `okrsim.views.panels.STORIES` to start from (``"default"``, ``"disruption"``, ...).
    settings : Settings, optional
        Start from these settings instead (e.g. ``Settings.load("export/settings.yaml")``).
    workers : int or "auto"
        Processes for the replications; ``"auto"`` uses 2 on machines with 2 or more cores.
        1 runs in the kernel itself.
    debounce : float
        Seconds to wait after a change before re-running; further changes in that time
        restart the wait, so dragging or holding an arrow key costs one update.
    export_dir : str or Path
        Where `export` writes pictures and settings.
    focus : str or sequence of str, optional
        Show only some controls: an effect (``"agility"``, ``"alignment"``,
        ``"transparency"``, ``"learning"``; see `FOCUS`) or dotted parameter keys
        (``("policy.cadence_weeks", "market.shift_rate")``).  Hidden parameters keep their
        values (from the story or `settings`); exports and settings still hold every one.
    charts : sequence of str, optional
        Chart tabs to show (keys of `okrsim.views.charts.CHARTS`); default the focus's charts, or all.

    Examples
    --------
    >>> explorer = Explorer(story="disruption")   # doctest: +SKIP
    >>> explorer                                  # doctest: +SKIP
    >>> Explorer(story="disruption", focus="agility")   # doctest: +SKIP
    """

    def __init__(self, story: str = "default", settings: Settings | None = None, workers: int | str = "auto",
                 debounce: float = 0.25, export_dir: str | Path = "okrsim-exports",
                 focus: str | Sequence[str] | Focus | None = None, charts: Sequence[str] | None = None):
        if story not in STORIES:
            raise ParameterError(f"unknown story {story!r}; valid stories are {', '.join(STORIES)}")
        self.debounce = float(debounce)
        self.export_dir = Path(export_dir)
        self.cache = RunCache()
        self.workers = _default_workers() if workers == "auto" else int(workers)
        self._evaluator: Evaluator | None = None
        self._handle: asyncio.TimerHandle | None = None
        # JupyterLab may run widget callbacks on a kernel subshell thread while a cell runs
        # (docs/architecture.md): updates and redraws take turns on this lock.
        self._lock = threading.RLock()
        self._applying = False
        self._stale: set[str] = set()
        self.panel: Panel | None = None
        self.last_update_seconds = math.nan
        self.updates = 0
        start = settings or STORIES[story].settings()
        self._story = story
        self.focus = resolve_focus(focus, charts)
        self.chart_names = self.focus.charts if self.focus is not None else tuple(CHARTS)

        self._build_widgets(start)
        self._apply_settings(start)
        self.update()
        self._start_pool()

    # ----------------------------------------------------------------- construction
    def _build_widgets(self, start: Settings) -> None:
        on_change, on_error = self._changed, self._show_error
        self.controls: dict[str, ParamControl] = {}
        for spec in REGISTRY:
            if spec.section != POLICY_SECTION:
                self.controls[spec.key] = ParamControl(spec, start.scenario.get(spec.key), on_change, on_error)
        self.run_controls = {
            s.name: ParamControl(s, s.default, on_change, on_error, slider=(s.name == "replications"))
            for s in RUN_SPECS
        }
        self.policy_controls: list[dict[str, ParamControl]] = []
        self.policy_presets: list[W.Dropdown] = []
        for i in range(2):
            levers = {}
            for spec in REGISTRY:
                if spec.section == POLICY_SECTION:
                    levers[spec.name] = ParamControl(spec, spec.default, on_change, on_error)
            self.policy_controls.append(levers)
            dd = W.Dropdown(options=list(POLICY_PRESETS), value="annual" if i == 0 else "quarterly_okr",
                            description="preset", layout=W.Layout(width="20em"))
            dd.observe(lambda ch, i=i: self._policy_preset(i, ch["new"]), "value")
            self.policy_presets.append(dd)

        self.story = W.Dropdown(options=[(s.title, k) for k, s in STORIES.items()], value=self._story,
                                description="Story", layout=W.Layout(width="24em"))
        self.story.observe(lambda ch: None if self._applying else self.apply_story(ch["new"]), "value")
        self.scenario_preset = W.Dropdown(options=list(SCENARIO_PRESETS), value=self._preset_name(start.scenario),
                                          description="Scenario", layout=W.Layout(width="16em"))
        self.scenario_preset.observe(lambda ch: self._scenario_preset(ch["new"]), "value")
        self.reset_button = W.Button(description="Reset", tooltip="back to the story's settings")
        self.reset_button.on_click(lambda _: self.reset())
        self.export_button = W.Button(description="Export",
                                      tooltip="write PNG, SVG and HTML of every chart plus the settings as YAML")
        self.export_button.on_click(lambda _: self._export_clicked())
        self.lesson = W.HTML(layout=W.Layout(margin="0 0 0 0.5em"))
        self.status = W.HTML()
        self.status.add_class("okrsim-status")
        self.error = W.HTML(layout=W.Layout(display="none"))
        self.error.add_class("okrsim-error")
        self.export_note = W.HTML()

        def group(title: str, keys: list[str]) -> W.VBox:
            return W.VBox([W.HTML(f"<b>{title}</b>")] + [self.controls[k].widget for k in keys])

        focus = self.focus if self.focus is not None and (self.focus.world or self.focus.levers) else None
        if focus is None:
            by_section = {s: [p.key for p in REGISTRY if p.section == s]
                          for s in ("market", "portfolio", "organisation", "horizon")}
            tabs = [
                ("Market", W.VBox([self.controls[k].widget for k in by_section["market"]])),
                ("Ideas", W.VBox([self.controls[k].widget for k in by_section["portfolio"]])),
                ("Organisation", W.VBox([group("Organisation", by_section["organisation"]),
                                         group("Horizon", by_section["horizon"])])),
            ]
        else:
            note = W.HTML(f"<i>Focused on {focus.name}: only these parameters are shown; every other one keeps "
                          "the story's value.</i>")
            tabs = [("World", W.VBox([note] + [self.controls[k].widget for k in focus.world]))]
        self._policy_tab = len(tabs)
        for i in range(2):
            rows: list[W.Widget] = [self.policy_presets[i]]
            if focus is None:
                for effect in EFFECTS:
                    rows.append(W.HTML(f"<b>{effect}</b>"))
                    rows += [c.widget for c in self.policy_controls[i].values() if c.spec.effect == effect]
            else:
                rows += [self.policy_controls[i][name].widget for name in focus.levers]
            tabs.append((f"Policy {'AB'[i]}", W.VBox(rows)))
        tabs.append(("Run", W.VBox([c.widget for c in self.run_controls.values()])))
        self.control_tabs = W.Tab(children=[t[1] for t in tabs], titles=[t[0] for t in tabs],
                                  layout=W.Layout(width="540px"))
        self.control_tabs.add_class("okrsim-controls")  # scrolls on its own: see _CSS

        self.chart_widgets: dict[str, SharedJupyterChart] = {}
        self.chart_tabs = W.Tab(layout=W.Layout(width="auto", min_width="640px"))
        self.chart_tabs.observe(lambda ch: self._redraw_visible(), "selected_index")
        # a long policy name widens the table's headers: it scrolls sideways rather than push the charts below the controls
        self.table = W.HTML(layout=W.Layout(overflow="auto", max_width="100%"))
        self.table.add_class("okrsim-kpi-table")
        header = W.VBox([
            W.HTML(f"<style>{_CSS}</style>"),
            W.HBox([self.story, self.scenario_preset, self.reset_button, self.export_button],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            self.lesson, self.error, self.status, self.export_note,
        ])
        # the charts take the room beside the controls (flex basis 0), never more: see _CSS on why they must stay in view
        charts = W.VBox([self.chart_tabs, self.table], layout=W.Layout(flex="1 1 0%", min_width="600px"))
        self.widget = W.VBox([header, W.HBox([self.control_tabs, charts],
                                             layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))])
        self.widget.add_class("okrsim-explorer")
        if focus is not None:
            self.widget.add_class("okrsim-explorer-focus")

    @staticmethod
    def _preset_name(scenario: Scenario) -> str:
        base = scenario.name.split("_custom")[0]
        return base if base in SCENARIO_PRESETS else "dynamic"

    def _start_pool(self) -> None:
        """Open the evaluator that sweeps use too: the kernel's shared local process pool."""
        if self.workers < 2 or self._evaluator is not None:
            return
        try:
            self._evaluator = open_evaluator("processes", self.workers, preload=("okrsim.views.panels",))
        except (OSError, ParameterError):  # pragma: no cover - a platform that cannot start processes
            self.workers = 1

    def close(self) -> None:
        """Release the worker processes (the shared pool stays for others) and close the widgets."""
        if self._evaluator is not None:
            self._evaluator.close()
            self._evaluator = None
        self.widget.close()

    # ------------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        names = [p.name for p in self.settings.policies]
        focus = f", focus: {self.focus.name}" if self.focus is not None and (self.focus.world or self.focus.levers) else ""
        return (f"Explorer({' vs '.join(names)} in {self.settings.scenario.name!r}, "
                f"{self.settings.replications} replications{focus})")

    # ------------------------------------------------------------------- settings
    def _apply_settings(self, s: Settings) -> None:
        """Put `s` into every control without triggering updates."""
        self._applying = True
        try:
            self.scenario_preset.value = self._preset_name(s.scenario)
            for key, control in self.controls.items():
                control.set_value(s.scenario.get(key))
            for i, policy in enumerate(s.policies[:2]):
                base = policy.name.split("_custom")[0]
                self.policy_presets[i].value = base if base in POLICY_PRESETS else "annual"
                for name, control in self.policy_controls[i].items():
                    control.set_value(policy.get(name))
            self.run_controls["replications"].set_value(s.replications)
            self.run_controls["seed"].set_value(s.seed)
            self.run_controls["example_replication"].set_value(s.example_replication)
        finally:
            self._applying = False
        self._retitle()

    def _retitle(self) -> None:
        titles = list(self.control_tabs.titles)
        for i in range(2):
            titles[self._policy_tab + i] = f"{'AB'[i]}: {self.policy_presets[i].value}"
        self.control_tabs.titles = tuple(titles)

    def current_settings(self) -> Settings:
        """Settings from the controls; raises `ParameterError` if they do not fit together."""
        preset = self.scenario_preset.value
        base = Scenario.preset(preset)
        world = {k: c.value for k, c in self.controls.items()}
        scenario = base.replace(world)
        if scenario != base:
            scenario = scenario.replace(name=f"{preset}_custom")
        policies = []
        for i in range(2):
            base_p = Policy.preset(self.policy_presets[i].value)
            p = base_p.replace({n: c.value for n, c in self.policy_controls[i].items()})
            name = base_p.name if p == base_p else f"{base_p.name}_custom"
            if i == 1 and name == policies[0].name:
                name = f"{name}_b"
            policies.append(p.replace(name=name))
        run = {k: c.value for k, c in self.run_controls.items()}
        return Settings(scenario, tuple(policies), run["replications"], run["seed"], run["example_replication"])

    @property
    def settings(self) -> Settings:
        """The settings of the result on screen (the last valid ones)."""
        assert self.panel is not None
        return self.panel.settings

    def set_value(self, key: str, value: Any, policy: int = 1) -> None:
        """Change one parameter as a user would and update (``"market.shift_rate"``, ``"policy.cadence_weeks"``).

        Lever keys apply to policy `policy` (0 = A, the baseline; 1 = B).  Invalid values
        are refused with the visible message, as typed values are.
        """
        if key.startswith(POLICY_SECTION + "."):
            control = self.policy_controls[policy][key.split(".", 1)[1]]
        elif key.startswith("run."):
            control = self.run_controls[key.split(".", 1)[1]]
        else:
            control = self.controls[key]
        try:
            control.set_value(value)
        except ParameterError as exc:
            self._show_error(f"Refused: {exc}")
            return
        self._changed(key, immediate=True)

    # ---------------------------------------------------------------------- events
    def _changed(self, key: str, immediate: bool = False) -> None:
        if self._applying:
            return
        self._schedule(immediate)

    def _schedule(self, immediate: bool = False) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        loop = None
        if not immediate and self.debounce > 0:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        if loop is None:
            self.update()
            return
        self.status.value = "<i>updating…</i>"
        self._handle = loop.call_later(self.debounce, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.update()

    def apply_story(self, name: str) -> None:
        """Load a story: world, both policies and the lesson, then update."""
        if name not in STORIES:
            raise ParameterError(f"unknown story {name!r}; valid stories are {', '.join(STORIES)}")
        self._story = name
        run = {k: c.value for k, c in self.run_controls.items()}
        s = STORIES[name].settings(replications=run["replications"], seed=run["seed"])
        self._apply_settings(s)
        if self.story.value != name:
            self._applying = True
            self.story.value = name
            self._applying = False
        self.update()

    def reset(self) -> None:
        """Back to the current story with 30 replications and seed 0."""
        self._applying = True
        try:
            self.run_controls["replications"].set_value(30)
            self.run_controls["seed"].set_value(0)
            self.run_controls["example_replication"].set_value(0)
        finally:
            self._applying = False
        self.apply_story(self._story)

    def _scenario_preset(self, name: str) -> None:
        if self._applying:
            return
        s = Scenario.preset(name)
        self._applying = True
        try:
            for key, control in self.controls.items():
                control.set_value(s.get(key))
        finally:
            self._applying = False
        self._schedule(immediate=True)

    def _policy_preset(self, i: int, name: str) -> None:
        if self._applying:
            return
        p = Policy.preset(name)
        self._applying = True
        try:
            for n, control in self.policy_controls[i].items():
                control.set_value(p.get(n))
        finally:
            self._applying = False
        self._retitle()
        self._schedule(immediate=True)

    # ---------------------------------------------------------------------- update
    def _show_error(self, message: str) -> None:
        import html

        self.error.value = html.escape(message) + " <b>The charts still show the last valid result.</b>"
        self.error.layout.display = "block"

    def _clear_error(self) -> None:
        self.error.value = ""
        self.error.layout.display = "none"

    def update(self) -> bool:
        """Re-run with the current controls and redraw; returns False if the input was refused."""
        with self._lock:
            return self._update()

    def _update(self) -> bool:
        t0 = time.perf_counter()
        try:
            settings = self.current_settings()
        except ParameterError as exc:
            self._show_error(f"Refused: {exc}")
            return False
        try:
            panel = build_panel(settings, executor=self._evaluator, cache=self.cache)
        except ParameterError as exc:
            self._show_error(f"Refused: {exc}")
            return False
        except ChildProcessError:  # a worker died: carry on in the kernel rather than end the session
            if self._evaluator is not None:
                self._evaluator.close(abort=True)
            self._evaluator = None
            self.workers = 1
            panel = build_panel(settings, cache=self.cache)
        self.panel = panel
        self._clear_error()
        self._stale = set(CHARTS)
        self._redraw_visible()
        self.table.value = kpi_table_html(panel.summary, panel.paired)
        self.lesson.value = f"<i>{STORIES[self._story].lesson}</i>" if self._story in STORIES else ""
        self.last_update_seconds = time.perf_counter() - t0
        self.updates += 1
        names = " vs ".join(p.name for p in settings.policies)
        self.status.value = (f"{names} in '{settings.scenario.name}': {settings.replications} paired replications, "
                             f"seed {settings.seed}; updated in {self.last_update_seconds:.2f} s")
        return True

    def _redraw_visible(self) -> None:
        with self._lock:
            if self.panel is None:
                return
            if not self.chart_widgets:
                charts = panel_charts(self.panel, self.chart_names)
                for n, c in charts.items():
                    w = SharedJupyterChart(c, embed_options={"renderer": "svg", "actions": False})
                    w.add_class(f"okrsim-chart-{n}")
                    self.chart_widgets[n] = w
                self.chart_tabs.children = list(self.chart_widgets.values())
                self.chart_tabs.titles = [TAB_LABELS.get(n, CHARTS[n][0]) for n in self.chart_widgets]
                self.chart_tabs.selected_index = 0
                self._stale = set()
                return
            index = self.chart_tabs.selected_index or 0
            shown = list(self.chart_widgets)
            name = shown[index] if index < len(shown) else shown[0]
            if name in self._stale:
                self.chart_widgets[name].chart = panel_charts(self.panel, [name])[name]
                self._stale.discard(name)

    def redraw_all(self) -> None:
        """Bring every chart up to date (the explorer normally redraws only the visible one)."""
        with self._lock:
            if self.panel is None:
                return
            for name, chart in panel_charts(self.panel, [n for n in self.chart_widgets if n in self._stale]).items():
                self.chart_widgets[name].chart = chart
            self._stale = set()

    # ---------------------------------------------------------------------- export
    def export(self, directory: str | Path | None = None, formats: tuple[str, ...] = FORMATS) -> Path:
        """Write every chart (PNG, SVG) plus an HTML report and the settings as YAML.

        The folder is named after a hash of the settings, so exporting the same picture
        twice lands in the same place and different pictures never overwrite each other.

        Returns
        -------
        Path
            The folder written.
        """
        if self.panel is None:
            raise ParameterError("nothing to export yet")
        unknown = set(formats) - set(FORMATS)
        if unknown:
            raise ParameterError(f"formats {sorted(unknown)} are not supported; valid formats are {', '.join(FORMATS)}")
        settings = self.panel.settings
        text = settings.to_yaml()
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        folder = Path(directory) if directory is not None else self.export_dir / f"okrsim-{digest}"
        for name, chart in panel_charts(self.panel).items():
            for fmt in formats:
                if fmt != "html":
                    save_chart(chart, folder / f"{name}.{fmt}")
        if "html" in formats:
            comparison_report(self.panel, folder / "report.html", write_settings=False)
        settings.save(folder / "settings.yaml")
        return folder

    def _export_clicked(self) -> None:
        import html

        self.export_note.value = "<i>exporting…</i>"
        try:
            folder = self.export()
        except (OSError, ParameterError) as exc:
            self._show_error(f"Export failed: {exc}")
            self.export_note.value = ""
            return
        links = []
        for f in sorted(folder.iterdir()):
            if f.suffix in (".png", ".yaml", ".html") and f.stat().st_size < 3_000_000:
                mime = {"png": "image/png", "yaml": "text/yaml", "html": "text/html"}[f.suffix[1:]]
                data = base64.b64encode(f.read_bytes()).decode()
                links.append(f'<a download="{html.escape(f.name)}" href="data:{mime};base64,{data}">{html.escape(f.name)}</a>')
        self.export_note.value = (f"Exported to <code>{html.escape(str(folder.resolve()))}</code> "
                                  f"(PNG, SVG, HTML report, settings.yaml). Download: {' · '.join(links)}")
