"""The explorer without a browser: controls from the registry, updates, refusals, debounce, export."""

from __future__ import annotations

import asyncio
import json
import threading

import ipywidgets as W
import pytest

from okrsim.core.registry import POLICY_SECTION, REGISTRY, lookup
from okrsim.views.explorer import Explorer, ParamControl
from okrsim.views.panels import Settings


@pytest.fixture
def explorer():
    e = Explorer(settings=Settings(replications=4), workers=1, debounce=0)
    yield e
    e.close()


def chart_json(e, name="value"):
    return json.dumps(e.chart_widgets[name].spec, sort_keys=True)


def test_controls_are_generated_from_the_registry(explorer):
    world = {p.key for p in REGISTRY if p.section != POLICY_SECTION}
    levers = {p.name for p in REGISTRY if p.section == POLICY_SECTION}
    assert set(explorer.controls) == world
    assert [set(c) for c in explorer.policy_controls] == [levers, levers]
    shift = explorer.controls["market.shift_rate"]
    assert isinstance(shift.slider, W.FloatSlider)
    assert (shift.slider.min, shift.slider.max) == (0.0, 12.0)
    assert shift.slider.continuous_update is False
    assert isinstance(explorer.controls["organisation.n_teams"].slider, W.IntSlider)
    assert isinstance(explorer.controls["portfolio.value_median"].slider, W.FloatLogSlider)
    assert explorer.policy_controls[1]["retrospectives"].checkbox.value is True
    assert explorer.controls["market.shocks"].text is not None
    titles = explorer.control_tabs.titles
    assert titles[:3] == ("Market", "Ideas", "Organisation") and titles[3:5] == ("A: annual", "B: quarterly_okr")


def test_moving_a_control_changes_chart_and_table(explorer):
    before_chart, before_table = chart_json(explorer), explorer.table.value
    explorer.set_value("market.shift_rate", 6.0)
    assert explorer.settings.scenario.market.shift_rate == 6.0
    assert explorer.settings.scenario.name == "dynamic_custom"
    assert chart_json(explorer) != before_chart
    assert explorer.table.value != before_table
    assert explorer.updates == 2


def test_lever_change_renames_the_policy(explorer):
    explorer.set_value("policy.cadence_weeks", 6, policy=1)
    assert [p.name for p in explorer.settings.policies] == ["annual", "quarterly_okr_custom"]
    assert explorer.settings.policies[1].cadence_weeks == 6


def test_invalid_typed_value_is_refused_and_last_result_stays(explorer):
    panel = explorer.panel
    shift = explorer.controls["market.shift_rate"]
    shift.type_text("20")
    assert explorer.error.layout.display == "block"
    assert "market.shift_rate = 20.0" in explorer.error.value and "[0, 12]" in explorer.error.value
    assert "last valid result" in explorer.error.value
    assert explorer.panel is panel
    assert shift.text.value == "1.5" and shift.slider.value == 1.5
    shift.type_text("lots")
    assert "is not a number" in explorer.error.value and explorer.panel is panel
    shift.type_text("2.5")
    assert explorer.error.layout.display == "none"
    assert explorer.settings.scenario.market.shift_rate == 2.5 and shift.slider.value == 2.5


def test_inconsistent_combination_is_refused(explorer):
    panel = explorer.panel
    explorer.set_value("organisation.n_teams", 1)
    assert "multi_team_share" in explorer.error.value and "n_teams = 1" in explorer.error.value
    assert explorer.panel is panel
    explorer.set_value("portfolio.multi_team_share", 0.0)
    assert explorer.error.layout.display == "none"
    assert explorer.settings.scenario.organisation.n_teams == 1


def test_shocks_text_is_parsed_and_validated(explorer):
    explorer.controls["market.shocks"].type_text("[[20, 1, 3.0]]")
    assert explorer.settings.scenario.market.shocks == ((20, 1, 3.0),)
    assert (explorer.panel.market["kind"] == "shock").sum() == 4
    explorer.controls["market.shocks"].type_text("[[20, 1]]")
    assert "each entry must be [week, theme, factor]" in explorer.error.value
    assert explorer.settings.scenario.market.shocks == ((20, 1, 3.0),)


def test_run_controls(explorer):
    explorer.set_value("run.replications", 3)
    assert explorer.settings.replications == 3 and len(explorer.panel.runs) == 6
    explorer.set_value("run.example_replication", 5)
    assert "example_replication = 5" in explorer.error.value
    explorer.run_controls["seed"].type_text("-3")
    assert "run.seed = -3" in explorer.error.value


def test_story_and_reset(explorer):
    explorer.story.value = "disruption"
    assert explorer.settings.scenario.market.shocks == ((52, 0, 0.2), (52, 5, 8.0))
    assert explorer.scenario_preset.value == "disruption"
    assert "collapses" in explorer.lesson.value
    explorer.story.value = "political portfolio"
    assert explorer.settings.policies[0].political_weight == 0.9
    explorer.set_value("market.shift_rate", 5.0)
    explorer.reset()
    assert explorer.settings.scenario.market.shift_rate == 1.5
    assert explorer.settings.replications == 30
    assert explorer.settings.policies[0].political_weight == 0.9


def test_policy_preset_dropdown_sets_levers(explorer):
    explorer.policy_presets[1].value = "only_learning"
    assert explorer.settings.policies[1].name == "only_learning"
    assert explorer.policy_controls[1]["retrospectives"].value is True
    assert explorer.policy_controls[1]["cadence_weeks"].value == 52
    assert explorer.control_tabs.titles[4] == "B: only_learning"


def test_only_the_visible_chart_is_redrawn(explorer):
    hidden = chart_json(explorer, "learning")
    explorer.set_value("market.shift_rate", 4.0)
    assert "learning" in explorer._stale and chart_json(explorer, "learning") == hidden
    explorer.chart_tabs.selected_index = list(explorer.chart_widgets).index("learning")
    assert "learning" not in explorer._stale and chart_json(explorer, "learning") != hidden


def _run_in_own_loop(coroutine_function) -> None:
    """Run a coroutine on a fresh event loop in its own thread.

    The browser tests' session-scoped Playwright (sync API) keeps an event loop running in
    the main thread for the rest of the session, where `asyncio.run` refuses to start.
    """
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine_function())
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]


def test_debounce_collapses_a_burst_of_changes():
    e = Explorer(settings=Settings(replications=3), workers=1, debounce=0.1)

    async def burst():
        for v in (2.0, 2.5, 3.0, 3.5, 4.0):
            e.controls["market.shift_rate"].slider.value = v
            await asyncio.sleep(0.01)
        assert e.updates == 1  # nothing ran yet: still inside the debounce window
        await asyncio.sleep(0.4)

    _run_in_own_loop(burst)
    assert e.updates == 2
    assert e.settings.scenario.market.shift_rate == 4.0
    e.close()


def test_export_writes_pictures_and_reproducible_settings(explorer, tmp_path):
    explorer.set_value("market.shift_rate", 3.0)
    folder = explorer.export(tmp_path / "out")
    names = {p.name for p in folder.iterdir()}
    for chart in explorer.chart_widgets:
        assert f"{chart}.png" in names and f"{chart}.svg" in names
    assert {"report.html", "settings.yaml"} <= names
    assert (folder / "value.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (folder / "value.svg").read_text()[:200]
    again = Settings.load(folder / "settings.yaml")
    assert again == explorer.settings
    assert again.panel().runs.equals(explorer.panel.runs)


def test_export_button_shows_links(explorer, tmp_path):
    explorer.export_dir = tmp_path
    explorer.export_button.click()
    assert "Exported to" in explorer.export_note.value
    assert 'download="settings.yaml"' in explorer.export_note.value


def test_param_control_unit_behaviour():
    changes, errors = [], []
    c = ParamControl(lookup("policy.cadence_weeks"), 13, changes.append, errors.append)
    c.type_text("13.5")
    assert errors and "must be an integer in [1, 52]" in errors[-1] and c.value == 13
    c.type_text("26")
    assert changes == ["policy.cadence_weeks"] and c.value == 26 and c.slider.value == 26
    c.set_value(52)
    assert changes == ["policy.cadence_weeks"]  # programmatic changes do not notify
    with pytest.raises(Exception, match="out of range"):
        c.set_value(60)


def test_explorer_displays_as_a_widget(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert repr(explorer) == "Explorer(annual vs quarterly_okr in 'dynamic', 4 replications)"


# ------------------------------------------------------------------------------ focus
def _shown(box):
    return set(box.children)


def test_focus_on_an_effect_shows_its_levers_world_parameters_and_charts():
    from okrsim import Scenario, effect_levers
    from okrsim.views.explorer import FOCUS

    settings = Settings(Scenario.preset("disruption"), ("annual", "only_agility"), replications=3)
    e = Explorer(settings=settings, focus="agility", workers=1, debounce=0)
    try:
        focus = FOCUS["agility"]
        assert e.control_tabs.titles == ("World", "A: annual", "B: only_agility", "Run")
        world_tab, tab_a, tab_b, _ = e.control_tabs.children
        assert {e.controls[k].widget for k in focus.world} <= _shown(world_tab)
        assert e.controls["portfolio.value_sigma"].widget not in _shown(world_tab)
        for tab, levers in ((tab_a, e.policy_controls[0]), (tab_b, e.policy_controls[1])):
            shown = {name for name, c in levers.items() if c.widget in _shown(tab)}
            assert shown == set(focus.levers)
        # every lever that distinguishes the presets is among the effect's levers, costs too
        assert {p.name for p in effect_levers("agility")} <= set(focus.levers)
        assert {"planning_cost", "switch_loss"} <= set(focus.levers)
        assert list(e.chart_widgets) == list(focus.charts)
        # hidden parameters keep the settings' values
        assert e.settings.scenario.market.shocks == ((52, 0, 0.2), (52, 5, 8.0))
        assert e.settings.policies[1].transparency == 0.1
        e.set_value("policy.planning_cost", 2.0)
        assert e.settings.policies[1].planning_cost == 2.0
        assert e.settings.policies[1].name == "only_agility_custom"
        assert e.control_tabs.titles[2] == "B: only_agility"
        e.policy_presets[1].value = "quarterly_okr"
        assert e.control_tabs.titles[2] == "B: quarterly_okr"
        assert repr(e) == "Explorer(annual vs quarterly_okr in 'disruption', 3 replications, focus: agility)"
        assert "okrsim-explorer-focus" in e.widget._dom_classes
    finally:
        e.close()


@pytest.mark.parametrize("effect", ["alignment", "transparency", "learning"])
def test_every_effect_has_a_focus_with_its_levers(effect):
    from okrsim import effect_levers
    from okrsim.views.charts import CHARTS
    from okrsim.views.explorer import FOCUS

    focus = FOCUS[effect]
    assert {p.name for p in effect_levers(effect)} <= set(focus.levers)
    assert all(lookup(f"policy.{name}").effect == effect for name in focus.levers)
    assert focus.world and all(lookup(k).section != POLICY_SECTION for k in focus.world)
    assert focus.charts and set(focus.charts) <= set(CHARTS)


def test_focus_on_a_list_of_keys_and_chosen_charts():
    e = Explorer(settings=Settings(replications=3), focus=("policy.cadence_weeks", "market.shift_rate"),
                 charts=("value",), workers=1, debounce=0)
    try:
        assert e.focus.levers == ("cadence_weeks",) and e.focus.world == ("market.shift_rate",)
        assert list(e.chart_widgets) == ["value"]
        e.set_value("market.shift_rate", 3.0)
        assert e.settings.scenario.market.shift_rate == 3.0 and e.updates == 2
    finally:
        e.close()


def test_charts_alone_keep_every_control():
    e = Explorer(settings=Settings(replications=3), charts=("learning", "value"), workers=1, debounce=0)
    try:
        assert e.control_tabs.titles[:3] == ("Market", "Ideas", "Organisation")
        assert list(e.chart_widgets) == ["learning", "value"]
        e.set_value("market.shift_rate", 3.0)  # the visible chart is redrawn, the hidden one waits
        assert "value" in e._stale and "learning" not in e._stale
    finally:
        e.close()


def test_unknown_focus_or_chart_is_refused():
    from okrsim.core.errors import ParameterError

    with pytest.raises(ParameterError, match="valid foci are agility, alignment, transparency, learning"):
        Explorer(settings=Settings(replications=2), focus="speed", workers=1)
    with pytest.raises(ParameterError, match=r"unknown parameter 'policy\.cadense_weeks'"):
        Explorer(settings=Settings(replications=2), focus=["policy.cadense_weeks"], workers=1)
    with pytest.raises(ParameterError, match="valid charts are value"):
        Explorer(settings=Settings(replications=2), charts=["values"], workers=1)


def test_updates_from_two_threads_take_turns(explorer, monkeypatch):
    """JupyterLab may run a widget callback on a kernel subshell thread while a cell runs: two
    updates must not interleave (the second waits for the first to finish drawing)."""
    import okrsim.views.explorer as module

    inside, most, entered = [0], [0], threading.Event()
    real = module.build_panel

    def slow_build(*args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        entered.set()
        try:
            threading.Event().wait(0.3)  # long enough for the other thread to arrive
            return real(*args, **kwargs)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(module, "build_panel", slow_build)
    before = explorer.updates
    other = threading.Thread(target=explorer.update)
    other.start()
    assert entered.wait(10)
    assert explorer.update()
    other.join(30)
    assert most[0] == 1, "two updates ran at the same time"
    assert explorer.updates == before + 2
