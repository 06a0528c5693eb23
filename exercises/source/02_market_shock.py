# %% [markdown]
# # Exercise 02 · Predict, then run: a market shock
#
# **Level:** first steps · **Time:** about 15 minutes · **Before:** exercise 01.
#
# The `disruption` scenario is a calm market until week 52. Then the leading theme collapses
# (its attractiveness drops to a fifth) and the weakest theme booms (eight times as attractive).
# How long does each policy need until its work follows the new leaders?
#
# The kit measures this with the KPI `adaptation_lag_weeks`: after a change of the most attractive
# third of themes, the weeks until half of all work goes to the new leaders (docs/model.md, section 9).
#
# Facts you need: the annual policy plans at weeks 0, 52 and 104; the quarterly one every 13 weeks
# and may stop running work; in both, planners see market changes 4 weeks late (`detection_lag_weeks`).
# In a week where both happen, the market changes before the planning event.

# %%
import okrsim
from okrsim.teaching.checks import check

print("shocks [week, theme, factor]:", okrsim.Scenario.preset("disruption").market.shocks)

# %% [markdown]
# ## Task 2.1 · Predict first (`02-predict`)
#
# **Before running anything**, write down your prediction: which policy follows the shock faster,
# and how many weeks each needs. Commit to numbers; the point is to compare them with the model
# afterwards.
#
# *How it is checked:* {{tolerance:02-predict}}, and the faster policy must be right. The feedback
# tells you which part is off and why.

# %%
### BEGIN SOLUTION
PREDICTION = {
    "faster": "quarterly_okr",   # the annual plan can only react at its next planning event, week 104
    "annual_lag_weeks": 52,      # about a year: week 56 (detection) to week 104, plus time for work to move
    "quarterly_lag_weeks": 17,   # detection (4) + next quarterly event (up to 13) + running work finishing
}
### END SOLUTION
### BEGIN PLACEHOLDER
PREDICTION = {
    "faster": ...,               # "annual" or "quarterly_okr"
    "annual_lag_weeks": ...,     # weeks
    "quarterly_lag_weeks": ...,  # weeks
}
### END PLACEHOLDER
check("02-predict", PREDICTION)

# %% [markdown]
# ## Task 2.2 · Now run it (`02-measure`)
#
# Compare `annual` and `quarterly_okr` in the `disruption` scenario over at least 30 paired
# replications, and find how many weeks **sooner** quarterly OKR follows the shock: annual's lag
# minus quarterly's lag (the paired `mean_diff` of `adaptation_lag_weeks` is quarterly minus annual).
#
# *How it is checked:* {{tolerance:02-measure}}.

# %%
### BEGIN SOLUTION
shock = okrsim.compare("disruption", ["annual", "quarterly_okr"], replications=40, seed=0)
lag = shock.summary[shock.summary.kpi == "adaptation_lag_weeks"].set_index("policy")
print(lag[["mean", "ci_low", "ci_high"]].round(1))
LAG_REDUCTION_WEEKS = round(float(-shock.paired.set_index("kpi").loc["adaptation_lag_weeks", "mean_diff"]), 1)
### END SOLUTION
### BEGIN PLACEHOLDER
# shock = okrsim.compare(...)      # your code here
LAG_REDUCTION_WEEKS = ...          # weeks
### END PLACEHOLDER
check("02-measure", LAG_REDUCTION_WEEKS)

# %% [markdown]
# ## Reflect
#
# Where was your prediction off, and why? What would change if the shock hit at week 60 instead
# of week 52? (Try it: `okrsim.Scenario.preset("disruption").replace({"market.shocks": [[60, 0, 0.2], [60, 5, 8]]})`.)

# %% [markdown] solution
# ## For the discussion
#
# * The annual plan is not blind for a year by accident: the shock hits just as the annual plan is
#   made, and planners see it only four weeks later. Its next chance to move money is week 104.
#   Until then only ad-hoc intake (teams whose plan runs out take new ideas) follows the market.
# * The quarterly lag is not zero either: detection, waiting for the next planning event and
#   running work that must finish or be stopped all take time.
# * With the shock at week 60 the annual plan waits eight weeks less for its next event (still
#   week 104), so its lag shrinks by up to that much; the quarterly lag depends on where in the
#   quarter the shock lands. Timing decides the lag after one shock; the cadence decides the
#   average over many.
