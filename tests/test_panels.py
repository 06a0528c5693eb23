"""Data preparation: panels agree with `okrsim.compare`, cache and pool change nothing, aggregations are right."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

import okrsim.views.panels as panels
from okrsim import Policy, Scenario, compare
from okrsim.core.errors import ParameterError
from okrsim.views.panels import STORIES, RunCache, Settings, band, build_panel, event_aligned, paired_differences, theme_shares


@pytest.fixture(scope="module")
def panel():
    return build_panel(Settings(replications=4, seed=3))


def _sorted(df):
    return df.sort_values(["replication", "policy"]).reset_index(drop=True)


def test_panel_matches_compare_with_common_random_numbers(panel):
    c = compare("dynamic", ["annual", "quarterly_okr"], replications=4, seed=3)
    pd.testing.assert_frame_equal(_sorted(panel.runs), _sorted(c.runs))
    pd.testing.assert_frame_equal(panel.summary, c.summary)
    pd.testing.assert_frame_equal(panel.paired, c.paired)
    assert panel.comparison.to_dict() == c.to_dict()


def test_panel_frames_have_documented_columns(panel):
    assert list(panel.timeline.columns) == ["policy", "replication", "week", "value", "cumulative_value", "aligned_share"]
    assert len(panel.timeline) == 2 * 4 * 156
    assert list(panel.cycles.columns) == ["policy", "replication", "cycle", "end_week", "estimation_error", "okr_score"]
    assert list(panel.market.columns) == ["replication", "time", "kind"]
    assert set(panel.market["kind"]) <= {"shift", "shock"}
    assert list(panel.themes.columns) == ["policy", "week", "theme", "attractiveness", "work", "top"]
    assert len(panel.themes) == 2 * 156 * 6
    assert panel.scorecards["policy"].nunique() == 2
    # the timeline's final cumulative value is the total_value KPI of each run
    last = panel.timeline[panel.timeline["week"] == 155].set_index(["replication", "policy"])["cumulative_value"]
    kpi = panel.runs.set_index(["replication", "policy"])["total_value"]
    for key, value in kpi.items():
        assert last.loc[key] == pytest.approx(value)


def test_market_is_common_to_all_policies():
    s = Settings(Scenario.preset("disruption"), replications=2)
    p = build_panel(s)
    shocks = p.market[p.market["kind"] == "shock"]
    assert shocks.groupby("replication")["time"].apply(list).tolist() == [[52.0], [52.0]]


def test_cache_reruns_only_the_changed_policy(monkeypatch):
    calls = []
    real = panels.simulate

    def counting(scenario, policy, seed):
        calls.append(policy.name)
        return real(scenario, policy, seed)

    monkeypatch.setattr(panels, "simulate", counting)
    cache = RunCache()
    s = Settings(replications=3)
    first = build_panel(s, cache=cache)
    assert len(calls) == 6 and len(cache) == 6
    calls.clear()
    again = build_panel(s, cache=cache)
    assert calls == []
    pd.testing.assert_frame_equal(first.runs, again.runs)
    changed = Settings(s.scenario, (s.policies[0], s.policies[1].replace({"cadence_weeks": 6})), 3)
    build_panel(changed, cache=cache)
    assert calls == ["quarterly_okr"] * 3


def test_run_cache_evicts_least_recently_used():
    cache = RunCache(max_items=2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_process_pool_gives_identical_results():
    s = Settings(replications=4, seed=9)
    serial = build_panel(s)
    with ProcessPoolExecutor(2) as pool:
        parallel = build_panel(s, executor=pool, workers=2)
    local = build_panel(s, executor="processes", workers=2)
    pd.testing.assert_frame_equal(serial.runs, local.runs)
    pd.testing.assert_frame_equal(serial.runs, parallel.runs)
    pd.testing.assert_frame_equal(serial.timeline, parallel.timeline)
    pd.testing.assert_frame_equal(serial.themes, parallel.themes)


def test_build_panel_accepts_a_comparison():
    c = compare("stable", ["annual", "only_learning"], replications=3, seed=2)
    p = build_panel(c)
    assert p.policy_names == ["annual", "only_learning"]
    pd.testing.assert_frame_equal(p.paired, c.paired)


# ------------------------------------------------------------------------------ settings
def test_settings_round_trip_through_yaml(tmp_path):
    s = Settings(Scenario.preset("disruption").replace({"market.shift_rate": 2.5}),
                 (Policy.preset("annual"), Policy.preset("quarterly_okr").replace({"cadence_weeks": 6}, name="q6")),
                 replications=7, seed=11, example_replication=3)
    path = s.save(tmp_path / "s.yaml")
    assert path.read_text().startswith("# okrsim settings")
    assert Settings.load(path) == s


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"replications": 0}, "replications = 0"),
    ({"replications": 2.5}, "replications = 2.5"),
    ({"seed": -1}, "seed = -1"),
    ({"replications": 3, "example_replication": 3}, r"example_replication = 3 must be a whole number in \[0, 2\]"),
    ({"policies": ("annual", "annual")}, "unique"),
    ({"policies": ()}, "at least one policy"),
])
def test_settings_refuse_bad_values(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        Settings(**kwargs)


def test_settings_from_dict_refuses_unknown_keys():
    with pytest.raises(ParameterError, match="unknown keys"):
        Settings.from_dict({"replication": 3})
    assert Settings.from_dict({"scenario": "turbulent", "policies": ["annual", "only_agility"]}).scenario.name == "turbulent"


def test_every_story_is_valid():
    for name, story in STORIES.items():
        s = story.settings(replications=2)
        assert len(s.policies) == 2, name
        assert story.lesson
    political = STORIES["political portfolio"].settings()
    assert political.policies[0].political_weight == 0.9
    assert STORIES["no learning"].settings().policies[1].retrospectives is False


# --------------------------------------------------------------------------- aggregations
def test_band_quantiles():
    df = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 5, "v": [1, 2, 3, 4, 5, 10, 10, 10, 10, 10]})
    b = band(df, ["g"], "v", (0.25, 0.75)).set_index("g")
    assert b.loc["a", ["low", "median", "high", "mean", "n"]].tolist() == [2, 3, 4, 3, 5]
    assert b.loc["b", "low"] == b.loc["b", "high"] == 10


def test_paired_differences():
    runs = pd.DataFrame({"replication": [0, 0, 1, 1], "policy": ["a", "b", "a", "b"], "k": [10.0, 12.0, 0.0, 1.0]})
    d = paired_differences(runs, "k")
    assert d["difference"].tolist() == [2.0, 1.0]
    assert d["relative"].iloc[0] == pytest.approx(0.2) and np.isnan(d["relative"].iloc[1])
    with pytest.raises(ParameterError, match="unknown KPI"):
        paired_differences(runs, "nope")


def test_theme_shares_bins_and_top():
    themes = pd.DataFrame({"policy": "p", "week": [0, 0, 1, 1, 2, 2], "theme": [0, 1] * 3,
                           "work": [1.0, 3.0, 1.0, 3.0, 2.0, 0.0], "top": [True, False, True, False, False, True]})
    s = theme_shares(themes, bin_weeks=2).set_index(["week", "theme"])
    assert s.loc[(0, 0), "share"] == pytest.approx(0.25) and s.loc[(0, 1), "share"] == pytest.approx(0.75)
    assert s.loc[(2, 0), "share"] == 1.0 and s.loc[(2, 1), "top"] == 1.0 and s.loc[(0, 0), "top"] == 1.0
    with pytest.raises(ParameterError):
        theme_shares(themes, bin_weeks=0)


def test_event_aligned_averages_over_events():
    tl = pd.DataFrame({"policy": "p", "replication": [0] * 10 + [1] * 10, "week": list(range(10)) * 2,
                       "aligned_share": [float(w) for w in range(10)] + [float(10 * w) for w in range(10)]})
    market = pd.DataFrame({"replication": [0, 1], "time": [4.2, 3.0], "kind": ["shift", "shock"]})
    ev = event_aligned(tl, market, window=(-1, 2)).set_index("offset")
    # replication 0 aligns on week 5 (the first full week after 4.2), replication 1 on week 3
    assert ev.loc[0, "mean"] == pytest.approx((5 + 30) / 2)
    assert ev.loc[-1, "n"] == 2
    only_shifts = event_aligned(tl, market, window=(0, 0), kinds=("shift",))
    assert only_shifts["mean"].tolist() == [5.0]
