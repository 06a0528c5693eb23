# %% [markdown]
# # Exercise 05 · Fix a political portfolio
#
# **Level:** intermediate · **Time:** about 25 minutes · **Before:** `notebooks/02_alignment.ipynb`.
#
# Your client plans once a year, and the plan is negotiated: sponsor power weighs 0.9 against
# strategic value in the ranking (`political_weight`), and each year's budget keeps 95% of last
# year's split between themes (`budget_inertia`). Then, in week 52, the market is disrupted (the
# `disruption` scenario: the leading theme collapses, the weakest one booms).
#
# Your brief: keep the annual cycle, but fix the portfolio with **alignment** levers only:
#
# | lever | what it does | political portfolio |
# | --- | --- | --- |
# | `political_weight` | weight of sponsor power against strategic value in ranking (0-1) | 0.9 |
# | `budget_inertia` | share of last year's budget split per theme kept per year (0-1) | 0.95 |
# | `horizontal_alignment` | teams share one ranking and start shared work together (0-1); costs `alignment_cost` | 0.4 |
# | `n_objectives`, `okr_focus` | how many themes become OKR objectives, and their ranking boost | 2, 0.3 |

# %%
import okrsim
from okrsim.teaching.checks import check
from okrsim.teaching.checks.levers import FOCUSED as focused
from okrsim.teaching.checks.levers import POLITICAL as political

comparison = okrsim.compare("disruption", ["annual", political], replications=30, seed=0)
print("political vs plain annual, total value:",
      f"{100 * comparison.paired.set_index('kpi').loc['total_value', 'rel_mean']:+.1f}%")

# %% [markdown]
# ## Task 5.1 · Recover the value (`05-alignment`)
#
# Choose alignment lever values for the political portfolio. Write them as a dict of the levers you
# change, e.g. `{"political_weight": 0.5}`; the others stay as in the political portfolio. Try your
# candidates with `okrsim.compare("disruption", [political, political.replace(levers, name="mine")], ...)`
# before you check.
#
# *How it is checked:* {{tolerance:05-alignment}}. "Full alignment" is the political portfolio with
# the alignment levers of the quarterly OKR preset (political weight 0.1, budget inertia 0.3,
# horizontal alignment 0.8). The cost of alignment (`alignment_cost`) is fixed.

# %%
### BEGIN SOLUTION
ALIGNMENT_LEVERS = {"political_weight": 0.1, "budget_inertia": 0.3, "horizontal_alignment": 0.8}
mine = political.replace(ALIGNMENT_LEVERS, name="mine")
c = okrsim.compare("disruption", [political, mine], replications=30, seed=0)
print(c.paired.set_index("kpi").loc[["total_value", "adaptation_lag_weeks", "aligned_capacity_share", "overhead_share"],
                                   ["mean_diff", "ci_low", "ci_high", "rel_mean"]].round(3))
### END SOLUTION
### BEGIN PLACEHOLDER
# your code here
ALIGNMENT_LEVERS = ...  # a dict, e.g. {"political_weight": 0.5}
### END PLACEHOLDER
check("05-alignment", ALIGNMENT_LEVERS)

# %% [markdown]
# ## Task 5.2 · Is alignment the same as focus? (`05-focus`)
#
# A common idea: "alignment means everyone focuses on the top theme". The policy `focused` is the
# political portfolio with a single OKR objective and a strong boost for it (`n_objectives=1`,
# `okr_focus=3`), everything else political as before. By how many **percent** does its
# `total_value` differ from the political portfolio's? Predict first, then run it.
#
# *How it is checked:* {{tolerance:05-focus}}.

# %%
print(f"focused: n_objectives {focused.n_objectives}, okr_focus {focused.okr_focus}; all else as {political.name}")
### BEGIN SOLUTION
c = okrsim.compare("disruption", [political, focused], replications=30, seed=0)
FOCUS_EFFECT_PERCENT = round(float(100 * c.paired.set_index("kpi").loc["total_value", "rel_mean"]), 1)
print(FOCUS_EFFECT_PERCENT)
### END SOLUTION
### BEGIN PLACEHOLDER
# your code here
FOCUS_EFFECT_PERCENT = ...  # a number in percent (negative if it loses value)
### END PLACEHOLDER
check("05-focus", FOCUS_EFFECT_PERCENT)

# %% [markdown]
# ## Reflect
#
# * Which lever recovered most? Which one helps most *after* the disruption (look at
#   `adaptation_lag_weeks`)? Why would a real organisation find that one hardest to pull?
# * What does alignment cost in your solution, and who pays it?

# %% [markdown] solution
# ## For the discussion
#
# * Sponsor power is the biggest single loss: lowering `political_weight` alone recovers most of
#   the value, because the ranking then follows value instead of who pushes. Budget inertia matters
#   after the disruption: budgets that keep 95% of last year's split keep funding the collapsed
#   theme, so lowering inertia as well shortens the adaptation lag further (a noisy KPI: read its CI).
# * Horizontal alignment alone recovers little: teams row in step, but towards the sponsors'
#   favourites. Its price (`alignment_cost`) is paid at every planning event.
# * Focus is not alignment: a ranking boost for the top theme changes next to nothing while power
#   and history decide the ranking and the money.
