"""Shapley decomposition: exact, fair to interactions, and consistent with a paired comparison."""

from __future__ import annotations

import numpy as np
import pytest

import okrsim
from okrsim import ParameterError, Policy, Scenario
from okrsim.core.params import effect_levers, mix_effects
from okrsim.core.registry import EFFECTS
from okrsim.experiments.decomposition import coalition_policies, decompose, effect_changes, shapley

SMALL = Scenario.preset("dynamic").replace({"horizon.weeks": 52})


def game(fn) -> np.ndarray:
    return np.array([fn({i for i in range(4) if m >> i & 1}) for m in range(16)], dtype=float)


def test_additive_game_gives_each_player_its_own_effect():
    effects = np.array([5.0, -2.0, 0.5, 3.0])
    phi = shapley(game(lambda s: 10 + sum(effects[i] for i in s)))
    np.testing.assert_allclose(phi, effects, rtol=0, atol=1e-12)


def test_pure_interaction_is_shared_equally_and_null_players_get_nothing():
    np.testing.assert_allclose(shapley(game(lambda s: 8.0 if s == {0, 1, 2, 3} else 0.0)), [2, 2, 2, 2])
    # player 3 never matters; players 0 and 1 only together
    phi = shapley(game(lambda s: (6.0 if {0, 1} <= s else 0.0) + (1.0 if 2 in s else 0.0)))
    np.testing.assert_allclose(phi, [3.0, 3.0, 1.0, 0.0], atol=1e-12)


def test_contributions_sum_to_the_total_to_float_precision():
    rng = np.random.default_rng(0)  # local generator: test data only
    values = rng.lognormal(10, 1, size=(500, 16))
    phi = shapley(values)
    gap = np.abs(phi.sum(axis=1) - (values[:, -1] - values[:, 0]))
    assert gap.max() <= 1e-10 * np.abs(values).max()
    with pytest.raises(ParameterError, match="2\\*\\*n"):
        shapley(np.zeros(15))


def test_coalitions_are_the_mix_effects_policies():
    annual, q = Policy.preset("annual"), Policy.preset("quarterly_okr")
    coalitions = coalition_policies(annual, q)
    assert len(coalitions) == 16 and len({p.name for p in coalitions}) == 16
    for mask, p in enumerate(coalitions):
        members = [e for i, e in enumerate(EFFECTS) if mask >> i & 1]
        assert p.flat() == mix_effects(members).flat(), p.name
    assert coalitions[0].flat() == annual.flat() and coalitions[-1].flat() == q.flat()
    assert coalitions[-1].name == "agility+alignment+transparency+learning"
    for e in EFFECTS:
        assert set(effect_changes(annual, q)[e]) == {s.name for s in effect_levers(e)}


def test_custom_targets_are_decomposed_completely():
    target = Policy.preset("quarterly_okr").replace({"okr_focus": 1.0, "cadence_weeks": 6}, name="q6")
    coalitions = coalition_policies(Policy.preset("annual"), target)
    assert coalitions[-1].flat() == target.flat()
    assert effect_changes(Policy.preset("annual"), target)["alignment"]["okr_focus"] == 1.0


@pytest.fixture(scope="module")
def small_decomposition():
    return decompose(SMALL, replications=4, seed=3, executor="serial", progress=False)


def test_decomposition_frame_and_exact_sums(small_decomposition):
    d = small_decomposition
    f = d.frame
    assert f["effect"].tolist() == [*EFFECTS, "total"]
    assert {"effect", "contribution", "ci_low", "ci_high", "share"} <= set(f.columns)
    per = d.per_replication.pivot(index="replication", columns="effect", values="contribution")
    gap = (per[list(EFFECTS)].sum(axis=1) - per["total"]).abs()
    assert (gap <= 1e-9 * per["total"].abs().clip(lower=1)).all()
    assert f.set_index("effect").loc[list(EFFECTS), "share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert f.loc[f.effect == "total", "contribution"].item() == pytest.approx(d.total, rel=0, abs=0)
    assert (f["ci_low"] <= f["contribution"]).all() and (f["contribution"] <= f["ci_high"]).all()
    assert len(d.coalitions) == 16 and d.sweep.n_runs == 16 * 4


def test_total_is_the_paired_advantage_of_a_plain_comparison(small_decomposition):
    c = okrsim.compare(SMALL, ["annual", "quarterly_okr"], replications=4, seed=3)
    paired = c.paired.set_index(["kpi", "policy"]).loc[("total_value", "quarterly_okr")]
    assert small_decomposition.total == pytest.approx(paired["mean_diff"], rel=1e-12)
    alone = small_decomposition.frame.set_index("effect").loc["agility", "alone"]
    c2 = okrsim.compare(SMALL, ["annual", "only_agility"], replications=4, seed=3)
    assert alone == pytest.approx(c2.paired.set_index(["kpi", "policy"]).loc[("total_value", "only_agility"),
                                                                          "mean_diff"], rel=1e-12)


def test_other_kpis_and_bad_input(small_decomposition):
    with pytest.raises(ParameterError, match="unknown KPI"):
        decompose(SMALL, kpi_name="value", replications=2, executor="serial", progress=False)
    with pytest.raises(ParameterError, match="replications = 0"):
        decompose(SMALL, replications=0, executor="serial", progress=False)
    d = decompose(SMALL, kpi_name="overhead_share", replications=2, seed=3, executor="serial", progress=False)
    assert d.kpi == "overhead_share" and np.isfinite(d.total)
