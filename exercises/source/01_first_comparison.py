# %% [markdown]
# # Exercise 01 · Your first comparison: annual plan or quarterly OKR?
#
# **Level:** first steps · **Time:** about 10 minutes · **Before:** nothing; **after:**
# `notebooks/00_start_here.ipynb`.
#
# An organisation spends its IT capacity on a portfolio of initiatives. It can fix the portfolio
# once a year (`annual`) or re-decide it every quarter, driven by OKRs (`quarterly_okr`). The kit
# simulates both policies in the same random worlds (*paired replications*: the same markets, the
# same ideas, the same noise), so the difference you see is caused by the policy, not by luck.
#
# **How the exercises work.** Each task has an answer variable in CAPITALS, set to `...`. Replace
# `...` with your answer and run the cell: the check below the answer replies at once with
# *correct*, or with what is off and why. Each wrong try gets a stronger hint. An answer left as
# `...` just reports *not attempted yet*. Run the cells from top to bottom (Shift+Enter).

# %%
import okrsim
from okrsim.teaching.checks import check

# %% [markdown]
# ## Run the comparison
#
# This cell runs both policies in 30 random worlds of the `dynamic` scenario (a market with one or
# two notable shifts a year and a steady flow of new ideas). It takes about a second.
# `comparison.paired` has one row per KPI: the mean difference `quarterly_okr - annual`, its 95%
# confidence interval, the win rate, and the relative difference `rel_mean` (a share: 0.10 = 10%).

# %%
comparison = okrsim.compare("dynamic", ["annual", "quarterly_okr"], replications=30, seed=0)
comparison.paired.set_index("kpi")[["mean_diff", "ci_low", "ci_high", "win_rate", "rel_mean"]].round(3)

# %% [markdown]
# ## Task 1.1 · How much more value does quarterly OKR deliver? (`01-advantage`)
#
# By how many **percent** does `quarterly_okr` deliver more `total_value` (customer value over three
# years) than `annual`? Read `rel_mean` in the `total_value` row and convert it to percent.
#
# *How it is checked:* the check runs its own comparison and accepts {{tolerance:01-advantage}}.
# Different seeds give slightly different numbers; that is what the tolerance is for.

# %%
### BEGIN SOLUTION
ADVANTAGE_PERCENT = round(float(100 * comparison.paired.set_index("kpi").loc["total_value", "rel_mean"]), 1)
### END SOLUTION
### BEGIN PLACEHOLDER
ADVANTAGE_PERCENT = ...  # a number in percent, e.g. 12.5
### END PLACEHOLDER
check("01-advantage", ADVANTAGE_PERCENT)

# %% [markdown]
# ## Task 1.2 · What does quarterly OKR pay for it? (`01-price`)
#
# Every benefit in the model has a price. Name one KPI in which `quarterly_okr` is clearly **worse**
# than `annual`. Careful: for some KPIs higher is better, for others lower is better; this cell
# lists the direction of each.
#
# *How it is checked:* accepted is {{tolerance:01-price}}, computed by the check from its own comparison.

# %%
for k in okrsim.KPIS:
    print(f"{k.name:24s} {k.better:6s} is better   {k.meaning}")

# %%
### BEGIN SOLUTION
PRICE_KPI = "overhead_share"
### END SOLUTION
### BEGIN PLACEHOLDER
PRICE_KPI = ...  # a KPI name in quotes, e.g. "lead_time_weeks"
### END PLACEHOLDER
check("01-price", PRICE_KPI)

# %% [markdown] solution
# ## For the discussion
#
# * Quarterly OKR pays in capacity spent on planning (`overhead_share`) and in running work it
#   stops on purpose (`initiatives_stopped`); the change-board KPIs (`in_year_starts`,
#   `changes_approved`) are zero because it has no change board, not because it is slower.
# * Its key results score a little *higher* (`okr_score_mean`), and that proves nothing: a key
#   result is set at what the cycle's plan forecasts to deliver, so a score says whether a cycle
#   did what it planned, not whether the plan was worth doing. Across replications the score
#   hardly tracks total value (docs/model.md, section 7.6).
# * The advantage depends on the world. Exercise 03 finds where it disappears, exercise 04 where
#   heavy planning eats it up.

# %% [markdown]
# **Next:** exercise 02, predict-then-run on a market shock.
