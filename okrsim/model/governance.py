"""Portfolio governance: the decisions a planning event makes.

Pure functions over numpy arrays: how planners value and rank ideas, how budgets follow
(or lag) strategy, which running work falls below the line, what the OKRs promise, how a
retrospective turns delivered evidence into better estimates, and how joint workshops
discover conflicts and synergies.  `okrsim.model.simulation` calls them at each planning event; keeping
them free of SimPy makes each rule testable on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from okrsim.model.ideas import SECONDARY_WEIGHT

__all__ = [
    "FUNDED_FIRST",
    "MANDATORY_FIRST",
    "PRIOR_OBSERVATIONS",
    "STOP_RATIO",
    "SYNC_BOOST",
    "Beliefs",
    "believed_log_value",
    "budget_step",
    "commitment",
    "effective_political_weight",
    "finish_weeks",
    "funded",
    "interaction_adjustment",
    "leading_sd",
    "learn",
    "mandatory_key",
    "objectives",
    "okr_maturity",
    "priority",
    "should_stop",
    "theme_shares",
    "theme_weights",
    "weigh_evidence",
    "wip_in_force",
    "within_capacity",
    "workshops_needed",
]

#: Evidence (delivered initiatives) equivalent to the planners' prior at learning rate 0.5;
#: the prior's weight is ``PRIOR_OBSERVATIONS * (1 - rate) / rate`` observations.
PRIOR_OBSERVATIONS = 4.0
#: Log-priority offset that puts work funded by its theme's budget ahead of other work.
FUNDED_FIRST = 100.0
#: Priority above any other for mandatory work (less its deadline in weeks): regulation is
#: served first, earliest deadline first, by every policy.
MANDATORY_FIRST = 1.0e4
#: Log-priority bonus, times horizontal alignment, for parts a partner team already started.
SYNC_BOOST = 3.0
#: Running work is stopped only if its value per remaining effort fell below this share of
#: the marginal planned item's: it must have lost its value, not merely been overtaken.
STOP_RATIO = 0.5


@dataclass(frozen=True)
class Beliefs:
    """What planners have learned about their own estimates.

    The sufficient statistics of all evidence so far (per theme: count, sum and sum of
    squares of ``log(estimate / observed value)``) fully determine the corrections, so
    learning depends on the evidence, not on how many retrospectives digested it.

    Attributes
    ----------
    count, total, total_sq : ndarray, shape (K,)
        Sufficient statistics of the log errors observed per theme.
    bias : ndarray, shape (K,)
        Estimated log bias per theme, subtracted from raw estimates.
    shrink : float
        Weight on the bias-corrected estimate against the prior median (1 = taken at face value).
    """

    count: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    bias: np.ndarray
    shrink: float

    @classmethod
    def naive(cls, n_themes: int) -> Beliefs:
        """Planners who take estimates at face value (no evidence yet)."""
        z = np.zeros(n_themes)
        return cls(z, z.copy(), z.copy(), z.copy(), 1.0)


def learn(beliefs: Beliefs, errors: np.ndarray, themes: np.ndarray, learning_rate: float, value_sigma: float) -> Beliefs:
    """Fold new evidence into `beliefs`.

    Parameters
    ----------
    errors : ndarray
        ``log(estimate / observed value)`` of initiatives delivered since the last retrospective.
    themes : ndarray of int
        Their primary themes.
    learning_rate : float
        In (0, 1]: how fast evidence overrides the prior of "no bias, no noise".
    value_sigma : float
        Spread of true values across ideas, known from the organisation's history; it sets
        how far noisy estimates are shrunk towards the median once noise has been measured.

    Notes
    -----
    The bias of theme k is the evidence mean shrunk towards 0 by a prior worth
    ``PRIOR_OBSERVATIONS * (1 - rate) / rate`` observations.  The estimation noise is the
    pooled within-theme variance, shrunk the same way, and turned into the Bayesian weight
    ``value_sigma^2 / (value_sigma^2 + noise^2)``: the textbook cure for the optimizer's curse.
    """
    if len(errors) == 0:
        return beliefs
    # The statistics have one entry per theme, so plain Python is faster than numpy here; the
    # sums run in the same order as `numpy.bincount` would run them.
    k = len(beliefs.count)
    new_count, new_total, new_sq = [0] * k, [0.0] * k, [0.0] * k
    for e, theme in zip(np.asarray(errors).tolist(), np.asarray(themes).tolist(), strict=True):
        new_count[theme] += 1
        new_total[theme] += e
        new_sq[theme] += e * e
    count = [a + b for a, b in zip(beliefs.count.tolist(), new_count, strict=True)]
    total = [a + b for a, b in zip(beliefs.total.tolist(), new_total, strict=True)]
    total_sq = [a + b for a, b in zip(beliefs.total_sq.tolist(), new_sq, strict=True)]
    prior = PRIOR_OBSERVATIONS * (1.0 - learning_rate) / learning_rate
    # no evidence and no prior: no bias
    bias = [t / (c + prior) if c + prior > 0 else 0.0 for t, c in zip(total, count, strict=True)]
    seen = [c > 0 for c in count]
    dof = sum(count) - sum(seen)
    if dof > 0:
        spread = [q - t * t / c for q, t, c, s in zip(total_sq, total, count, seen, strict=True) if s]
        within = np.array(spread).sum() / dof  # numpy's summation order, as before
        noise_var = max(within, 0.0) * dof / (dof + prior)
        tau2 = value_sigma**2
        shrink = tau2 / (tau2 + noise_var) if tau2 + noise_var > 0 else 1.0
    else:
        shrink = beliefs.shrink
    count, total, total_sq, bias = np.array(count), np.array(total), np.array(total_sq), np.array(bias)
    return Beliefs(count, total, total_sq, bias, float(shrink))


def believed_log_value(log_estimate: np.ndarray, theme: np.ndarray, beliefs: Beliefs, log_median: float) -> np.ndarray:
    """Planners' log value belief: the estimate, bias-corrected and shrunk towards the median."""
    return log_median + beliefs.shrink * (log_estimate - beliefs.bias[theme] - log_median)


def theme_weights(theme: np.ndarray, theme2: np.ndarray, n_themes: int) -> np.ndarray:
    """Matrix (ideas x themes) of how much each idea's value depends on each theme."""
    w = np.zeros((len(theme), n_themes))
    has2 = theme2 >= 0
    rows = np.arange(len(theme))
    w[rows, theme] = np.where(has2, 1.0 - SECONDARY_WEIGHT, 1.0)
    w[rows[has2], theme2[has2]] += SECONDARY_WEIGHT
    return w


def objectives(perceived: np.ndarray, n_objectives: int) -> np.ndarray:
    """The OKR objectives: the `n_objectives` themes that look most attractive (stable order)."""
    return (-perceived).argsort(kind="stable")[:n_objectives]


def okr_maturity(cycle_index: int, tau: float) -> float:
    """How well an organisation practises OKRs in its cycle `cycle_index` (0 = its first):
    ``1 - 0.5 ** ((cycle_index + 1) / tau)``, exactly 1 when `tau` is 0.

    Parameters
    ----------
    cycle_index : int
        The OKR cycle in force (`OkrCycle.index`), counted from 0.
    tau : float
        ``organisation.okr_adoption_cycles``: the half-life, in cycles, of the inexperience.

    Returns
    -------
    float
        In (0, 1]: the share of a practised organisation's OKR mechanics it gets (its focus
        boost, the precision of its key results' leading measures; goal displacement is
        divided by it).

    Notes
    -----
    Practitioners say OKRs "work from the second cycle": the first cycle's objectives are
    too many or too vague, its key results measure activity, and teams learn to read and
    set them by doing it.  No published adoption curve or failure rate was found, so the
    curve is the simplest one with that shape: inexperience halves every `tau` cycles (at
    `tau` 1 the maturity is 0.5, 0.75, 0.875, ...).  It counts cycles, not weeks, because
    an organisation learns the practice by going through it: a quarterly organisation
    matures in a quarter of the calendar time an annual one needs.
    """
    if tau <= 0:
        return 1.0
    return 1.0 - 0.5 ** ((cycle_index + 1) / tau)


def interaction_adjustment(
    value: np.ndarray,
    status: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    conflict: np.ndarray,
    severity: float | np.ndarray,
    bonus: float,
) -> np.ndarray:
    """Change in believed value from discovered conflicts (duplicates among them) and synergies.

    Parameters
    ----------
    value : ndarray
        Believed value (per week) of every idea (finite).
    status : ndarray of int
        0 waiting, 1 running, 2 delivered, -1 not known or dropped.
    pair_a, pair_b, conflict : ndarray
        The discovered pairs only.
    severity : float or ndarray
        Share of the smaller value a conflict cuts: one for every conflict, or one per pair
        (1 for a duplicate; ignored for synergies).
    bonus : float
        Share of the smaller value a synergy adds.

    Notes
    -----
    A conflict costs ``severity`` times the smaller value once both are live.  The less
    committed idea of the pair (waiting before running before delivered) carries that cost,
    between equals the smaller one, so planners pursue one of the two rather than both.  A
    duplicate (severity 1) leaves the less committed idea worth only what it adds beyond the
    smaller value: nothing, if it is the smaller.  A synergy with a delivered partner is worth
    its full bonus to the open idea; between two open ideas each carries half, which bundles
    them.

    Each side's change is a coefficient times the smaller value; the coefficient depends only
    on the pair's kind, the two statuses and which value is smaller, so it is looked up in a
    table (`_interaction_coefficients`) rather than assembled from a dozen masks, and scaled by
    the pair's severity (a conflict's coefficient is -1 per unit of severity; ``-1 * (s * v)``
    is the same floating-point number as ``-s * v``).
    """
    n = len(value)
    if len(pair_a) == 0:
        return np.zeros(n)
    va, vb = value[pair_a], value[pair_b]
    case = _pair_case(status[pair_a], status[pair_b], conflict, va <= vb)
    scale = np.where(conflict, severity, 1.0) * np.minimum(va, vb)
    amount = _interaction_coefficients(float(bonus)).take(case, axis=1) * scale
    return np.bincount(pair_a, weights=amount[0], minlength=n)[:n] + np.bincount(pair_b, weights=amount[1], minlength=n)[:n]


def _pair_case(status_a: np.ndarray | int, status_b: np.ndarray | int, conflict: np.ndarray | bool,
               a_smaller: np.ndarray | bool) -> np.ndarray | int:
    """Index (0 to 63) of a pair's case: kind, both statuses (-1 to 2) and whether a's value is
    the smaller (or equal) one."""
    return status_a * _8 + status_b * _2 + a_smaller + (conflict * _32 + _10)


# The case index's constants as numpy integers: with the statuses' int8 arrays, plain Python
# ints cost a range check at every operation, which doubles the cost of `_pair_case`.
_2, _8, _10, _32 = np.int8(2), np.int8(8), np.int8(10), np.int8(32)


@lru_cache(maxsize=16)
def _interaction_coefficients(bonus: float) -> np.ndarray:
    """Table (2 x 64, by `_pair_case`) of the coefficients of the smaller value that idea a
    (row 0) and idea b (row 1) of a pair gain (synergy) or lose (conflict, per unit of its
    severity).

    The entries reproduce the rules of `interaction_adjustment` case by case; multiplying by
    the smaller value gives the same floating-point numbers as applying the rules directly.
    """
    table = np.zeros((2, 64))
    for conflict in (False, True):
        for sa in range(-1, 3):
            for sb in range(-1, 3):
                for a_smaller in (False, True):
                    valid = sa >= 0 and sb >= 0
                    open_a, open_b = valid and sa <= 1, valid and sb <= 1
                    if conflict:
                        # the less committed idea (waiting < running < delivered) carries the
                        # cost; between equally committed ideas, the smaller one does
                        to_a = open_a and (sa < sb or (sa == sb and a_smaller))
                        to_b = open_b and (sb < sa or (sa == sb and not a_smaller))
                        coef = (-1.0 if to_a else 0.0, -1.0 if to_b else 0.0)
                    else:
                        # synergies: full bonus when the partner is delivered, half each while both are open
                        half = 0.5 * bonus if open_a and open_b else 0.0
                        coef = (bonus if open_a and sb == 2 else half, bonus if open_b and sa == 2 else half)
                    table[:, _pair_case(sa, sb, conflict, a_smaller)] = coef
    table.flags.writeable = False
    return table


def effective_political_weight(aim: float, floor: float) -> float:
    """The weight sponsor power really has in decisions: what the process aims for
    (``policy.political_weight``), but never below the organisation's ``politics_floor``.

    A process can make politics weigh more than usual, but how far it can make it weigh
    less is a property of the organisation, not a free lever: OKRs make priorities visible,
    sponsors keep some sway over budgets and people."""
    return max(aim, floor)


def wip_in_force(wip_limit: int, focus_wip: int) -> int:
    """The most parts a team works on at once: the organisation's ``wip_limit``, or the
    policy's focus rule ``focus_wip`` where it is lower (0: no focus rule).

    A focus rule can only lower the limit: it is a rule about saying no to parallel work,
    and more parallel work than the organisation's habit needs no rule."""
    return min(wip_limit, focus_wip) if focus_wip > 0 else wip_limit


def commitment(political_weight: float, loss: float) -> float:
    """Share of a delivered initiative's value that is realised, given the political weight in
    force: ``1 - loss * (1 - political_weight)``.

    Sponsors turn delivered work into benefits (adoption, process change, funding the run
    cost); the less say they had in what was built, the less they own it.  This is the price
    of weakening sponsors: at weight 1 nothing is lost, at weight 0 the share `loss`."""
    return 1.0 - loss * (1.0 - political_weight)


def priority(value: np.ndarray, remaining_effort: np.ndarray, sponsor: np.ndarray, political_weight: float) -> np.ndarray:
    """Log priority: value per remaining effort (cost of delay divided by duration), blended
    with sponsor power by `political_weight`."""
    strategic = np.log(np.maximum(value, 1e-12) / np.maximum(remaining_effort, 1e-12))
    return (1.0 - political_weight) * strategic + political_weight * np.log(sponsor)


def funded(themes: np.ndarray, remaining: np.ndarray, budget: np.ndarray, capacity: float) -> np.ndarray:
    """Mask of work funded by its theme's budget, for items given in priority order.

    Each theme k may fund ``budget[k] * capacity`` team-weeks in the cycle; an item is funded
    if its theme's budget is not yet used up when its turn comes.  With a budget equal to
    the strategic target this funds exactly the items above the capacity line.
    """
    rows = np.arange(len(themes))
    by_theme = np.zeros((len(themes), len(budget)))
    by_theme[rows, themes] = remaining
    spent_before = by_theme.cumsum(axis=0)[rows, themes] - remaining
    return spent_before < budget[themes] * capacity


def mandatory_key(mandatory: np.ndarray, deadline: np.ndarray) -> np.ndarray:
    """Priority added to every idea: ``MANDATORY_FIRST - deadline`` for mandatory ideas, 0.0
    for the rest.

    Mandatory work is not ranked by what it is worth: a regulation must be met whatever its
    business case says, so every policy serves it first, earliest deadline first (the
    schedule that misses fewest deadlines on one machine).  Adding exactly 0.0 leaves every
    other priority as it was."""
    return np.where(mandatory, MANDATORY_FIRST - np.where(mandatory, deadline, 0.0), 0.0)


def within_capacity(remaining_effort: np.ndarray, capacity: float) -> np.ndarray:
    """Mask of the items, given in priority order, that start before `capacity` team-weeks are used."""
    return remaining_effort.cumsum() - remaining_effort < capacity


def leading_sd(progress: np.ndarray, leading_noise: float, observation_noise: float) -> np.ndarray:
    """Log-sd of a key result's leading measure of an initiative's value at `progress` (the
    share of its effort done, in (0, 1]): ``sqrt(observation_noise^2 + leading_noise^2 *
    (1 - p) / p)``, so ``leading_noise`` is its noise half-way, early readings say almost
    nothing, and at delivery it is as good as observing the value itself."""
    p = np.minimum(np.maximum(progress, 1e-6), 1.0)  # (np.clip, without its wrapper's cost)
    return np.sqrt(observation_noise**2 + leading_noise**2 * (1.0 - p) / p)


def weigh_evidence(belief: np.ndarray, measure: np.ndarray, measure_sd: np.ndarray, case_sd: float) -> np.ndarray:
    """Planners' log value after a leading measure: the business-case `belief` and the
    `measure` weighed by their precision (``case_sd`` is the spread of business cases' errors,
    which an organisation knows from its history, as it knows the spread of values)."""
    prior = case_sd**2
    return belief + prior / (prior + measure_sd**2) * (measure - belief)


def finish_weeks(remaining: float, n_teams: int, wip: int, speed: float = 1.0) -> float:
    """Weeks an initiative's teams need for its `remaining` effort when each gives it its usual
    share of its change capacity `speed` (one part among `wip`): the horizon over which
    stopping it is judged."""
    return wip * remaining / (max(n_teams, 1) * speed)


def should_stop(priority: float, effort: float, remaining: float, marginal: float, political_weight: float) -> bool:
    """Whether running work outside the plan's capacity line has lost its value.

    Parameters
    ----------
    priority : float
        The running item's log priority with its total effort (`priority`).
    effort, remaining : float
        Its total and remaining effort: sunk effort is ignored, so nearly finished work is
        valued by what little it still needs.
    marginal : float
        Log priority of the last item inside the plan's capacity line.

    Notes
    -----
    The item is stopped when its value per *remaining* effort has fallen below `STOP_RATIO`
    times the marginal planned item's value per effort.  The margin keeps planners from
    churning work for marginally better ideas: work must have lost its value, not merely been
    overtaken.
    """
    keep = priority + (1.0 - political_weight) * math.log(effort / max(remaining, 1e-9))
    return keep < marginal + (1.0 - political_weight) * math.log(STOP_RATIO)


def theme_shares(themes: np.ndarray, effort: np.ndarray, n_themes: int) -> np.ndarray:
    """Share of `effort` per theme (uniform if there is none)."""
    total = np.bincount(themes, weights=effort, minlength=n_themes)
    s = np.add.reduce(total)  # `total.sum()` without the method's Python wrapper
    return total / s if s > 0 else np.full(n_themes, 1.0 / n_themes)


def budget_step(budget: np.ndarray, target: np.ndarray, inertia: float, cadence_weeks: int) -> np.ndarray:
    """Move the theme budget split towards `target`.

    Inertia is a rate per year: the share of last year's split that is kept after a year,
    whatever the cadence, so quarterly re-budgeting with the same inertia moves money no faster
    per year than annual re-budgeting.
    """
    keep = inertia ** (cadence_weeks / 52.0)
    return keep * budget + (1.0 - keep) * target


def workshops_needed(visibility: np.ndarray, transparency: float) -> np.ndarray:
    """Joint workshops a pair must go through before it is discovered.

    Each workshop finds a given pair with probability `transparency`, so the count is
    geometric; computing it from the pair's fixed uniform keeps discoveries common across
    policies (a more transparent policy finds the same pairs, earlier).
    """
    if transparency <= 0:
        return np.full(len(visibility), np.inf)
    if transparency >= 1:
        return np.ones(len(visibility))
    with np.errstate(over="ignore", divide="ignore"):  # a vanishing transparency finds nothing: inf
        return np.maximum(1.0, np.ceil(np.log1p(-visibility) / np.log1p(-transparency)))
