# %% [markdown]
# # Exercise 07 · Design and defend a portfolio policy for a client
#
# **Level:** open research question · **Time:** 45-60 minutes, in pairs · **Before:** exercises 01-06 and
# `notebooks/05_steering_system.ipynb`.
#
# A client (fictional, but typical) asks whether to move from annual budgeting to quarterly OKR
# cycles. Their world and their prices:
#
# * 10 delivery teams; a market that shifts about twice a year; 1.2 new ideas a week;
# * very noisy business cases (`estimation_noise` 0.8) and strong sponsors (`sponsor_spread` 1.0);
# * every planning event costs each team a full team-week; stopped work loses half its progress and
#   a week of ramp-up; a full-intensity joint workshop costs half a team-week, a retrospective 0.1,
#   full horizontal alignment 0.2 per event;
# * **the CFO's limit:** at most 8% of capacity may go to planning, alignment, workshops and
#   retrospectives (`overhead_share`).
#
# Your brief: design a policy that clearly beats the client's current annual process, stays within
# the CFO's limit, and delivers at least about as much value as the textbook quarterly OKR policy
# would at the client's prices. Then defend it with numbers you measured, and say what would make
# you wrong.

# %%
import okrsim
from okrsim.teaching.checks import check
from okrsim.teaching.checks.levers import CLIENT as client
from okrsim.teaching.checks.levers import CURRENT as current
from okrsim.teaching.checks.levers import TEXTBOOK as textbook

baseline = okrsim.compare(client, [current, textbook], replications=30, seed=0)
table = baseline.summary.pivot(index="kpi", columns="policy", values="mean")
table.loc[["total_value", "overhead_share", "waste_share", "lead_time_weeks", "estimation_error"]].round(3)

# %% [markdown]
# ## Task 7.1 · Your proposal (`07-client`)
#
# Fill in the proposal. `levers` is a dict of changes to the client's current policy (any lever of
# `okrsim params` except the cost parameters, which are the client's prices), or a preset name.
# `advantage_percent` is your measured total-value advantage over the current process, in percent;
# `overhead_percent` your policy's `overhead_share`, in percent of capacity. The two texts are for
# the client: at least a sentence each.
#
# *How it is checked:* {{tolerance:07-client}}. The texts are not graded beyond their length;
# your trainer will ask you to defend them.
#
# *What a good answer addresses:* which effects earn more than they cost at this client (try the
# ablations, or `okrsim.mix_effects`), how sure you are (CIs, win rates), one assumption that would
# flip the recommendation (and did you test it?), and who in the organisation loses power or budget.

# %%
### BEGIN SOLUTION
levers = {"cadence_weeks": 26, "can_stop_running_work": True, "political_weight": 0.1, "budget_inertia": 0.3,
          "horizontal_alignment": 0.8, "retrospectives": True}
mine = current.replace(levers, name="semiannual_aligned")
c = okrsim.compare(client, [current, textbook, mine], replications=40, seed=0)
print(c.paired[c.paired.kpi == "total_value"][["policy", "rel_mean", "rel_ci_low", "rel_ci_high", "win_rate"]].round(3))
print(c.summary[c.summary.kpi == "overhead_share"][["policy", "mean"]].round(3))
paired = c.paired.set_index(["kpi", "policy"])
PROPOSAL = {
    "levers": levers,
    "advantage_percent": round(float(100 * paired.loc[("total_value", mine.name), "rel_mean"]), 1),
    "overhead_percent": round(float(100 * c.summary.set_index(["kpi", "policy"]).loc[("overhead_share", mine.name), "mean"]), 1),
    "assumption_that_would_flip_it": "If a planning event cost twice as much, two rounds a year would use most of the "
                                     "CFO's limit and the advantage would shrink; we would test that before committing.",
    "main_risk": "Sponsors lose their weight in the ranking and may fight the new process; budgets move between "
                 "themes faster than the business lines are used to.",
}
### END SOLUTION
### BEGIN PLACEHOLDER
# your code here: compare candidates with current and textbook in `client`
PROPOSAL = {
    "levers": ...,                         # dict of lever changes, e.g. {"transparency": 0.3}
    "advantage_percent": ...,              # measured advantage over `current`, percent
    "overhead_percent": ...,               # measured overhead_share of your policy, percent
    "assumption_that_would_flip_it": ...,  # text: one assumption that would change your recommendation
    "main_risk": ...,                      # text: the main risk of adopting it
}
### END PLACEHOLDER
check("07-client", PROPOSAL)

# %% [markdown]
# ## Research questions (open, no check)
#
# 1. Which of the four effects earns most at this client? Decompose your policy's advantage (the
#    Shapley decomposition, `docs/research.md`), or switch effects on one at a time with
#    `okrsim.mix_effects`.
# 2. How robust is your recommendation? Vary one assumption you are unsure of (estimation noise,
#    shift rate, planning cost) and find where it flips.
# 3. Is there a cadence between 13 and 52 weeks that beats both? What does it cost?

# %% [markdown] solution
# ## For the discussion
#
# * At the client's prices the textbook quarterly OKR policy spends about 15% of capacity on
#   overhead: over the CFO's limit. Good designs keep what earns most (alignment: strategy over
#   sponsor power and history; learning loops, valuable with noisy business cases) and buy agility
#   more cheaply (a semi-annual cycle, or quarterly with light workshops).
# * A defended proposal states its advantage with a CI, names the price (overhead, stops) and the
#   assumption to test first. The sample answer's claim about planning costs should be tested, not
#   asserted: run it.
