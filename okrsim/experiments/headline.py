"""The kit's one headline figure, defined once.

A consultant needs one number, and the others explained.  The headline figure is the **mean
paired relative advantage in total value** of one policy over another, with its 95% CI and
the **win rate** (the share of paired replications in which the policy delivers more): paired,
because both policies face the same markets and ideas in each replication (common random
numbers), relative, because clients think in percent, and with the absolute difference
beside it where there is room.  The demo, the report, the value chart's title, notebook 00 and
the trainer guide all state it through `Headline`; every other statistic (a median, a band, a
share of capacity) is labelled as what it is.

`HEADLINE_SCENARIO`, `HEADLINE_POLICIES`, `HEADLINE_REPLICATIONS` and `HEADLINE_SEED` are the
headline comparison itself: ``okrsim demo`` runs it by default, notebook 00 runs it, and the
trainer guide's figure is generated from it (``scripts/headline.py``), so that all of them show
the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from okrsim.experiments.statistics import paired

if TYPE_CHECKING:
    from okrsim.experiments.comparison import Comparison

__all__ = ["HEADLINE_KPI", "HEADLINE_POLICIES", "HEADLINE_REPLICATIONS", "HEADLINE_SCENARIO", "HEADLINE_SEED",
           "Headline", "headline_comparison"]

#: The KPI the headline is about.
HEADLINE_KPI = "total_value"
#: The headline comparison: the quarterly OKR portfolio against the typical annual process and
#: the annual process with stage gates, in a dynamic market.
HEADLINE_SCENARIO = "dynamic"
HEADLINE_POLICIES: tuple[str, ...] = ("annual", "annual_gates", "quarterly_okr")
HEADLINE_REPLICATIONS = 50
HEADLINE_SEED = 1


@dataclass(frozen=True)
class Headline:
    """`policy`'s paired advantage over `baseline` in total value.

    Attributes
    ----------
    policy, baseline : str
    replications : int
        Paired replications it rests on.
    rel_mean, rel_ci_low, rel_ci_high : float
        Mean paired relative advantage and its 95% CI (0.1 is +10%): the headline figure.
    win_rate : float
        Share of replications in which `policy` delivers more (ties count half).
    mean_diff, ci_low, ci_high : float
        The absolute advantage in value units and its 95% CI, stated beside the relative one.
    """

    policy: str
    baseline: str
    replications: int
    rel_mean: float
    rel_ci_low: float
    rel_ci_high: float
    win_rate: float
    mean_diff: float
    ci_low: float
    ci_high: float

    @classmethod
    def of(cls, stats: Mapping[str, float], policy: str, baseline: str) -> Headline:
        """From paired statistics of total value (`okrsim.experiments.statistics.paired`, a
        row of `Comparison.paired`, or `Comparison.versus`)."""
        return cls(policy, baseline, int(stats["n"]), *(float(stats[k]) for k in (
            "rel_mean", "rel_ci_low", "rel_ci_high", "win_rate", "mean_diff", "ci_low", "ci_high")))

    @classmethod
    def from_comparison(cls, comparison: Comparison, policy: str = "quarterly_okr",
                        baseline: str | None = None) -> Headline:
        """`policy` against `baseline` (default: the comparison's baseline) in `comparison`."""
        base = baseline or comparison.baseline.name
        return cls.of(comparison.versus(policy, base, HEADLINE_KPI), policy, base)

    @classmethod
    def from_values(cls, values: np.ndarray, baseline_values: np.ndarray, policy: str, baseline: str) -> Headline:
        """From each replication's total value of the two policies, in the same order."""
        return cls.of(paired(np.asarray(values, float), np.asarray(baseline_values, float)), policy, baseline)

    @property
    def verdict(self) -> str:
        """"more", "less" or "no clearly different" (by the absolute difference's 95% CI)."""
        return "more" if self.ci_low > 0 else "less" if self.ci_high < 0 else "no clearly different"

    @property
    def figure(self) -> str:
        """The headline figure: ``+10.1% (95% CI +8.0% to +12.2%)``."""
        if not all(math.isfinite(x) for x in (self.rel_mean, self.rel_ci_low, self.rel_ci_high)):
            return "n/a"
        return f"{self.rel_mean:+.1%} (95% CI {self.rel_ci_low:+.1%} to {self.rel_ci_high:+.1%})"

    @property
    def wins(self) -> str:
        """``better in 98% of 50 paired replications``."""
        return f"better in {self.win_rate:.0%} of {self.replications} paired replications"

    def sentence(self) -> str:
        """The headline as one sentence (without a final full stop)."""
        return f"{self.policy} delivers {self.verdict} total value than {self.baseline}: {self.figure}, {self.wins}"

    def absolute(self) -> str:
        """The absolute advantage, labelled: ``+5,431 value units (95% CI +4,410 to +6,452)``."""
        return f"{self.mean_diff:+,.0f} value units (95% CI {self.ci_low:+,.0f} to {self.ci_high:+,.0f})"


def headline_comparison(replications: int = HEADLINE_REPLICATIONS, seed: int = HEADLINE_SEED) -> Comparison:
    """Run the headline comparison (`HEADLINE_POLICIES` in `HEADLINE_SCENARIO`)."""
    from okrsim.core.params import Scenario
    from okrsim.experiments.comparison import compare

    return compare(Scenario.preset(HEADLINE_SCENARIO), list(HEADLINE_POLICIES), replications=replications, seed=seed)
