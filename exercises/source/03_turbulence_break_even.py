# %% [markdown]
# # Exercise 03 · How much turbulence before quarterly cycles pay?
#
# **Level:** intermediate · **Time:** about 25 minutes · **Before:** exercises 01-02 and
# `notebooks/01_agility.ipynb`.
#
# Quarterly cycles are not free. Here planning is heavy: `heavy_okr` is the quarterly OKR policy
# with a team-week of planning per team per quarter (compliance reviews, big-room planning, ...),
# four times a year what the annual plan spends once.
# In a world where nothing moves, that time is wasted; in a turbulent one, re-deciding often pays.
# Somewhere in between lies a **break-even**.
#
# **Turbulence has two sides** in the kit, and the `stable` / `dynamic` / `turbulent` presets move
# both: how often the market shifts (`market.shift_rate`, per year) and how fast new ideas arrive
# (`portfolio.idea_rate`, per week). Here a turbulence `t` scales both from the `dynamic` preset:
# `shift_rate = 1.5 t` and `idea_rate = 1.5 t`, so `t = 1` is `dynamic` and `t = 0` a frozen world.

# %%
import numpy as np

import okrsim
from okrsim.teaching.checks import check
from okrsim.teaching.checks.break_even import HEAVY_OKR as heavy_okr
from okrsim.teaching.checks.break_even import turbulent_world

for p in (okrsim.Policy.preset("quarterly_okr"), heavy_okr):
    print(f"{p.name} plans {p.planning_cost} team-weeks per team every {p.cadence_weeks} weeks")
for t in (0.5, 1.0):
    w = turbulent_world(t)
    print(f"t = {t}: {w.market.shift_rate:g} shifts a year, {w.portfolio.idea_rate:g} new ideas a week")

# %% [markdown]
# ## Task 3.1 · Find the break-even (`03-turbulence`)
#
# At which turbulence `t` does `heavy_okr` start to deliver more `total_value` than `annual`?
#
# Suggested method: for `t` = 0.1, 0.2, ... 0.7, run
# `okrsim.compare(turbulent_world(t), ["annual", heavy_okr], replications=40, seed=0)` and collect
# the relative advantage of `total_value` (`rel_mean`, with `rel_ci_low` and `rel_ci_high`). Use the
# same seed at every `t` (common random numbers make the curve smooth), then interpolate linearly
# between the last negative and the first positive point (`np.interp(0, advantages, levels)` does
# it for a rising curve). About 10 seconds.
#
# *How it is checked:* {{tolerance:03-turbulence}}.

# %%
levels = np.round(np.arange(0.1, 0.75, 0.1), 1)  # the turbulence levels to try
### BEGIN SOLUTION
advantages = []
for t in levels:
    row = okrsim.compare(turbulent_world(t), ["annual", heavy_okr], replications=40, seed=0).paired.set_index("kpi")
    row = row.loc["total_value"]
    advantages.append(row["rel_mean"])
    print(f"t = {t:.1f}: advantage {100 * row['rel_mean']:+.1f}% "
          f"(95% CI {100 * row['rel_ci_low']:+.1f}% to {100 * row['rel_ci_high']:+.1f}%)")
BREAK_EVEN_TURBULENCE = round(float(np.interp(0, advantages, levels)), 2)  # the curve rises through zero once
print("break-even at t =", BREAK_EVEN_TURBULENCE)
### END SOLUTION
### BEGIN PLACEHOLDER
# your code here
BREAK_EVEN_TURBULENCE = ...  # a number: turbulence t
### END PLACEHOLDER
check("03-turbulence", BREAK_EVEN_TURBULENCE)

# %% [markdown]
# ## Task 3.2 · Which side of turbulence pays for the quarterly cycle? (`03-sides`)
#
# Start from `t = 0.4` and change **one side at a time**: a world with only the shift rate doubled
# (`turbulent_world(0.4, shifts=0.8)`) and one with only the flow of ideas doubled
# (`turbulent_world(0.4, ideas=0.8)`). Which side raises `heavy_okr`'s advantage more?
# Answer `"shifts"`, `"ideas"`, `"both"` (about equally) or `"neither"`.
#
# *How it is checked:* {{tolerance:03-sides}}.

# %%
### BEGIN SOLUTION
for label, world in (("t = 0.4", turbulent_world(0.4)), ("shifts doubled", turbulent_world(0.4, shifts=0.8)),
                     ("ideas doubled", turbulent_world(0.4, ideas=0.8))):
    row = okrsim.compare(world, ["annual", heavy_okr], replications=40, seed=0).paired.set_index("kpi").loc["total_value"]
    print(f"{label:15s} advantage {100 * row['rel_mean']:+.1f}% "
          f"(95% CI {100 * row['rel_ci_low']:+.1f}% to {100 * row['rel_ci_high']:+.1f}%)")
WHICH_SIDE = "ideas"
### END SOLUTION
### BEGIN PLACEHOLDER
# your code here
WHICH_SIDE = ...  # "shifts", "ideas", "both" or "neither"
### END PLACEHOLDER
check("03-sides", WHICH_SIDE)

# %% [markdown]
# ## Reflect
#
# * A simulated break-even is a band, not a point. How would you explain the band to a manager who
#   wants "the number"?
# * Your client says: "our market is turbulent, so we need quarterly OKRs." Which question do you ask back?

# %% [markdown] solution
# ## For the discussion
#
# * With heavy planning, quarterly cycles lose in a calm world and win in a lively one; the
#   break-even lies between the `stable` and the `dynamic` preset (the solution prints it, and the
#   check's feedback names the band it accepts). With the preset's light planning
#   (`okrsim.Policy.preset("quarterly_okr").planning_cost`) it lies far lower: the price of the
#   ritual moves the break-even.
# * The flow of new ideas does most of the work: re-deciding every quarter gets new, better ideas
#   into the plan sooner. Market shifts alone add less, because a shift moves only some themes and
#   only part of the way. "Our market is turbulent" should prompt: turbulent in what: new
#   opportunities, or shifting priorities between existing ones?
# * Researchers: the kit's `breakeven` function (`docs/research.md`) finds a break-even over one
#   parameter with its confidence band; here turbulence moves two parameters at once, so the loop
#   is written out.
