# %% [markdown]
# # Exercise 04 · How much planning can quarterly cycles afford?
#
# **Level:** intermediate · **Time:** about 25 minutes · **Before:** exercise 03.
#
# In a `mature` market there is little to react to: few market shifts, few new ideas. Quarterly
# cycles still have to pay for four planning rounds a year. How expensive may a planning round be
# before quarterly cycles stop paying?
#
# `planning_cost` is the capacity each team spends per planning event, in team-weeks. The annual
# policy pays 1.0 once a year; the `quarterly_okr` preset pays 0.4 four times a year. You will find
# the break-even for two policies:
#
# * `quarterly_okr`: the whole OKR practice (agility, alignment, transparency, learning loops);
# * `only_agility`: the annual policy with only the quarterly cycle switched on (cadence, stopping
#   work, planning cost); everything else stays annual.
#
# Keep `annual` as it is and raise only the quarterly policy's planning cost.

# %%
import numpy as np

import okrsim
from okrsim.teaching.checks import check

for name in ("annual", "quarterly_okr", "only_agility"):
    p = okrsim.Policy.preset(name)
    print(f"{name:14s} plans every {p.cadence_weeks:2d} weeks at {p.planning_cost} team-weeks per team")

# %% [markdown]
# ## Task 4.1 · Find both break-evens (`04-planning-cost`)
#
# For each of the two policies, find the planning cost per event at which its paired advantage in
# `total_value` over `annual` in `mature` crosses zero.
#
# Suggested method: for costs 0.0, 0.1, ... 1.0, build
# `okrsim.Policy.preset("quarterly_okr").replace({"planning_cost": cost})` (likewise for `only_agility`),
# compare it with `"annual"` in `"mature"` over 30 paired replications with a fixed seed, and
# interpolate where `mean_diff` changes sign (`np.interp(0, advantages[::-1], costs[::-1])` does it
# for a falling curve). About 15 seconds.
#
# *How it is checked:* {{tolerance:04-planning-cost}}.

# %%
costs = {"quarterly_okr": np.arange(0.0, 1.01, 0.1), "only_agility": np.arange(0.0, 1.01, 0.1)}  # to try
### BEGIN SOLUTION
def advantage(policy: str, cost: float) -> float:
    target = okrsim.Policy.preset(policy).replace({"planning_cost": cost})
    paired = okrsim.compare("mature", ["annual", target], replications=30, seed=0).paired
    return paired.set_index("kpi").loc["total_value", "mean_diff"]


def break_even(policy: str) -> float:
    """Planning cost where the advantage falls through zero (it falls as planning gets dearer)."""
    advantages = [advantage(policy, c) for c in costs[policy]]
    print(policy, "advantage by planning cost:",
          ", ".join(f"{c:g}: {a:+.0f}" for c, a in zip(costs[policy], advantages, strict=True)))
    return round(float(np.interp(0, advantages[::-1], costs[policy][::-1])), 2)  # np.interp needs rising x


BREAK_EVEN = {"quarterly_okr": break_even("quarterly_okr"), "only_agility": break_even("only_agility")}
print(BREAK_EVEN)
### END SOLUTION
### BEGIN PLACEHOLDER
# your code here
BREAK_EVEN = {
    "quarterly_okr": ...,   # team-weeks per team per planning event
    "only_agility": ...,
}
### END PLACEHOLDER
check("04-planning-cost", BREAK_EVEN)

# %% [markdown]
# ## Reflect
#
# * Convert your break-evens into planning time per team and year (four events a year). How does
#   that compare with the annual plan's one team-week?
# * Can the whole OKR practice afford more planning than quarterly cycles alone here? Why, or why not?
# * Which assumption of the model would you test first before telling a client "your planning is
#   too expensive for quarterly cycles"? (`okrsim params` lists them all.)

# %% [markdown] solution
# ## For the discussion
#
# * In `mature`, quarterly OKR breaks even at the planning cost the solution prints above (times
#   four: the team-weeks a year each team may spend on planning), close to the preset's own 0.4:
#   in a calm market the quarterly practice only just pays for itself against the typical annual
#   process, which already takes urgent new ideas in through its change board (and mandatory
#   work, which every process serves first, leaves less to re-decide).
# * Quarterly cycles alone break even at about the same cost. In a market with little to react
#   to, alignment, transparency and learning earn about what they cost: alignment has a price
#   (sponsors and teams know things the business cases miss, and sponsors who lose their say
#   commit less; `docs/model.md` 7.2 and 7.8). In a moving market the whole practice affords
#   far more (try `"dynamic"`). That is the decomposition of
#   `notebooks/05_steering_system.ipynb` in miniature.
# * Counter-case for the misconception "quarterly always wins": at 2.5 team-weeks per event the
#   annual plan wins in this market (`docs/model.md`, section 1, pattern 3).
