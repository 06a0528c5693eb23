# %% [markdown]
# # Exercise 06 · The optimizer's curse, and its cure
#
# **Level:** advanced · **Time:** about 30 minutes · **Before:** `notebooks/04_learning_loops.ipynb`.
#
# Business cases are noisy: in the kit an estimate is the true value times a lognormal error
# (`estimation_noise`, a log standard deviation of 0.5 by default, "off by a factor of about 1.5").
# Each estimate on its own is unbiased. Yet the initiatives a portfolio board picks tend to
# disappoint. Why, by how much, and what cures it?
#
# *Disappointment* is measured in log units: believed minus true log value of the chosen work
# (0.1 log units is about 10%).

# %%
import numpy as np

import okrsim
from okrsim.model.ideas import optimizers_curse
from okrsim.teaching.checks import check

# Warm-up: with a single option there is nothing to choose, so nothing to be cursed by.
print("best of 1:", round(optimizers_curse(1, 0.5, 100_000, np.random.default_rng(1)), 3), "log units")

# %% [markdown]
# ## Task 6.1 · How much does the best-looking idea disappoint? (`06-curse`)
#
# Three ideas have exactly the same true value; their business cases are noisy with sigma = 0.5.
# The board picks the one that looks best. On average, by how many log units does the chosen
# idea disappoint? And if the board picks the best of **ten** equally good ideas?
#
# Reason it out, then simulate it: `optimizers_curse(n_options, sigma, trials, rng)` returns the
# mean disappointment, e.g. `optimizers_curse(3, 0.5, 100_000, np.random.default_rng(1))`.
#
# *How it is checked:* {{tolerance:06-curse}}.

# %%
### BEGIN SOLUTION
rng = np.random.default_rng(1)
CURSE = {
    "best_of_3": round(optimizers_curse(3, 0.5, 100_000, rng), 3),
    "best_of_10": round(optimizers_curse(10, 0.5, 100_000, rng), 3),
}
print(CURSE)
### END SOLUTION
### BEGIN PLACEHOLDER
CURSE = {
    "best_of_3": ...,   # log units
    "best_of_10": ...,  # log units
}
### END PLACEHOLDER
check("06-curse", CURSE)

# %% [markdown]
# ## Task 6.2 · Cure it (`06-cure`)
#
# In the running model, the annual portfolio picks work on business cases and never looks back.
# `Run.cycles` shows, per planning cycle, the planners' `estimation_error` and the
# `disappointment` of the planned work delivered in that cycle. Change the annual policy's levers
# (a dict, e.g. `{"cadence_weeks": 26}`) so that the organisation learns: its estimation error
# falls clearly and its chosen work no longer disappoints after the first year.
#
# *How it is checked* in `dynamic`: {{tolerance:06-cure}}. Cost parameters (such as `retro_cost`)
# are fixed.

# %%
def learning_table(levers: dict, replications: int = 20) -> None:
    """Estimation error and disappointment per cycle, annual vs annual with your levers."""
    yours = okrsim.Policy.preset("annual").replace(levers, name="yours")
    for policy in (okrsim.Policy.preset("annual"), yours):
        cycles = [okrsim.simulate(okrsim.Scenario.preset("dynamic"), policy, okrsim.replication_seed(0, r)).cycles
                  for r in range(replications)]
        late = [c.loc[c.start_week >= 52, "disappointment"].mean() for c in cycles]
        print(f"{policy.name:8s} final estimation error {np.mean([c.estimation_error.iloc[-1] for c in cycles]):.3f}, "
              f"disappointment after year 1 {np.nanmean(late):+.3f} log units")

# %%
### BEGIN SOLUTION
LEARNING_LEVERS = {"retrospectives": True}
learning_table(LEARNING_LEVERS)
### END SOLUTION
### BEGIN PLACEHOLDER
# try your candidates with learning_table({...})
LEARNING_LEVERS = ...  # a dict of lever changes to the annual policy
### END PLACEHOLDER
check("06-cure", LEARNING_LEVERS)

# %% [markdown]
# ## Reflect
#
# * Try `{"cadence_weeks": 13}` without retrospectives. What happens to the estimation error, and
#   what does that say about "more meetings = more learning"?
# * Learning overshoots slightly (negative disappointment). Why might learning from *selected*
#   work over-correct? (docs/model.md, section 7.3.)

# %% [markdown] solution
# ## For the discussion
#
# * The best of 3 disappoints by about 0.85 sigma, the best of 10 by about 1.5 sigma: more choice,
#   bigger curse. Unbiased estimates do not make an unbiased choice.
# * Retrospectives compare delivered value with the business cases, correct each theme's bias and
#   shrink noisy estimates towards the typical value (Smith and Winkler 2006). The learning comes
#   from evidence, not from meetings: planning quarterly without retrospectives learns nothing and
#   costs planning time.
