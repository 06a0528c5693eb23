"""The parameter registry: one record per input of the model.

Everything that needs to know about parameters reads this table: validation of
`Scenario` and `Policy`, the ``okrsim params`` listing, the widgets of the explorer and the
default bounds of sweeps.  Keeping it in one place means those can never disagree about a
name, a unit or a valid range.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from okrsim.core.errors import ParameterError

__all__ = [
    "EFFECTS",
    "KINDS",
    "POLICY_SECTION",
    "REGISTRY",
    "SCENARIO_SECTIONS",
    "ParamSpec",
    "check_registry",
    "is_finite_number",
    "lookup",
    "show",
    "specs",
]

#: Sections of the world (`Scenario`), in display order.
SCENARIO_SECTIONS: tuple[str, ...] = ("market", "portfolio", "organisation", "horizon")
#: The section name used for the levers (`Policy`).
POLICY_SECTION = "policy"
#: The four effects of the OKR practice, in the order the kit always presents them.
EFFECTS: tuple[str, ...] = ("agility", "alignment", "transparency", "learning")
#: Kinds of parameter values.
KINDS: tuple[str, ...] = ("int", "float", "bool", "shocks")
#: Names a parameter cannot have: they are attributes or methods of the section objects.
_RESERVED = frozenset({"name", "section", "specs", "preset", "coerce", "coerce_many", "from_dict", "to_dict",
                       "replace", "get", "flat", "load", "save"})


@dataclass(frozen=True)
class ParamSpec:
    """Everything the kit knows about one parameter.

    Attributes
    ----------
    section : str
        ``market``, ``portfolio``, ``organisation``, ``horizon`` or ``policy``.
    name : str
        Attribute name inside its section.
    kind : str
        ``"int"``, ``"float"``, ``"bool"`` or ``"shocks"`` (a list of scheduled shocks).
    default : Any
        Value in the default scenario (``dynamic``) or the ``annual`` policy.
    low, high : float or None
        Inclusive valid range for numbers; ``None`` for booleans and shocks.
    unit : str
        Unit shown next to values and on chart axes.
    meaning : str
        One line for tables, tooltips and error messages.
    effect : str or None
        For levers, which of the four effects it belongs to; ``None`` for world parameters.
    role : str
        ``"lever"`` (a choice of the organisation) or ``"cost"`` (a price it pays for a lever)
        for policy parameters; ``"world"`` otherwise.  The decomposition switches whatever
        distinguishes the two presets within an effect (`okrsim.core.params.effect_levers`), which
        includes the planning cost per event, because the presets differ in it.
    """

    section: str
    name: str
    kind: str
    default: Any
    low: float | None
    high: float | None
    unit: str
    meaning: str
    effect: str | None = None
    role: str = "world"

    @property
    def key(self) -> str:
        """Dotted name, as used on the command line and in sweep specifications."""
        return f"{self.section}.{self.name}"

    @property
    def is_numeric(self) -> bool:
        """Whether the parameter can be swept over a numeric interval."""
        return self.kind in ("int", "float")

    def describe_range(self) -> str:
        """Human-readable valid range, used in every error message about this parameter."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "shocks":
            return "a list of [week, theme, factor] with 0 <= week < horizon, 0 <= theme < n_themes, 0 < factor <= 100"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} in [{_fmt(self.low)}, {_fmt(self.high)}]" + (f" {self.unit}" if self.unit else "")

    def validate(self, value: Any) -> Any:
        """Return `value` coerced to this parameter's type, or raise `ParameterError`.

        Integral floats are accepted for integer parameters because sliders, JSON and
        Latin-hypercube samplers produce them; anything that would silently change the value
        (13.5 weeks, ``True`` for a number, NaN) is refused.
        """
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value in (0, 1):
                return bool(value)
            raise self.error(value, "must be true or false")
        if self.kind == "shocks":
            return _validate_shocks(self, value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
                return self.validate(value.item())
            raise self.error(value, f"must be {self.describe_range()}")
        if not _fits_float(value):  # a 400-digit integer: out of every range, and float() would overflow
            raise self.error(value, f"is out of range: valid is {self.describe_range()}")
        if not math.isfinite(value):
            raise self.error(value, f"must be finite, {self.describe_range()}")
        if self.kind == "int":
            if float(value) != int(value):
                raise self.error(value, f"must be {self.describe_range()}")
            value = int(value)
        else:
            value = float(value)
        assert self.low is not None and self.high is not None
        if not (self.low <= value <= self.high):
            raise self.error(value, f"is out of range: valid is {self.describe_range()}")
        return value

    def error(self, value: Any, problem: str) -> ParameterError:
        """Build the error for `value`, naming this parameter."""
        return ParameterError(f"{self.key} = {show(value)} {problem} ({self.meaning})")


def show(value: Any, limit: int = 60) -> str:
    """`repr` of a value for an error message, shortened when it is huge (a 400-digit number).

    The message must name the value, but a screen of digits hides the rest of the message.
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{text[:12]}...{text[-4:]} (a {len(text.lstrip('-'))}-digit integer)"
    return f"{text[:limit - 15]}...{text[-12:]}"


def _fits_float(x: int | float) -> bool:
    """Whether `x` converts to a float without `OverflowError` (huge Python ints do not)."""
    if isinstance(x, float):
        return True
    try:
        float(x)
    except OverflowError:
        return False
    return True


def is_finite_number(x: Any) -> bool:
    """Whether `x` is a real, finite number (not a bool, not NaN or infinite, not too large for a float).

    The one test every numeric input of the kit passes, so that a 400-digit integer is refused
    with the kit's message rather than an `OverflowError` from `math.isfinite`.
    """
    import numbers

    if isinstance(x, bool) or not isinstance(x, numbers.Real) or type(x).__name__ == "bool_":
        return False
    return _fits_float(x) and math.isfinite(x)  # type: ignore[arg-type]


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


#: Largest week or theme number a shock may name before the horizon and theme count are known.
_MAX_SHOCK_INDEX = 1_000_000


def _validate_shocks(spec: ParamSpec, value: Any) -> tuple[tuple[int, int, float], ...]:
    # Range checks that need other parameters (theme count, horizon) happen in Scenario.
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise spec.error(value, f"must be {spec.describe_range()}")
    out = []
    for item in value:
        if isinstance(item, Mapping):
            try:
                item = (item["week"], item["theme"], item["factor"])
            except KeyError:
                raise spec.error(value, "entries need keys week, theme and factor") from None
        if isinstance(item, (str, bytes)) or not isinstance(item, Iterable):
            raise spec.error(value, f"must be {spec.describe_range()}")
        item = tuple(item)
        if len(item) != 3:
            raise spec.error(value, f"each entry must be [week, theme, factor]; got {list(item)!r}")
        week, theme, factor = item
        for part, name in ((week, "week"), (theme, "theme")):
            whole = isinstance(part, int) or (isinstance(part, float) and math.isfinite(part) and part.is_integer())
            if isinstance(part, bool) or not whole:
                raise spec.error(value, f"the {name} of a shock must be a whole number; got {show(part)}")
            if abs(part) > _MAX_SHOCK_INDEX:  # beyond any horizon or theme count (and maybe any float)
                raise spec.error(value, f"the {name} of a shock must be in [0, {_MAX_SHOCK_INDEX}]; got {show(part)}")
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
                or (isinstance(factor, float) and not math.isfinite(factor)):
            raise spec.error(value, f"the factor of a shock must be a finite number; got {show(factor)}")
        if not 0 < factor <= 100:
            raise spec.error(value, f"the factor of a shock must be in (0, 100]; got {show(factor)}")
        if week < 0 or theme < 0:
            raise spec.error(value, "shock week and theme must not be negative")
        out.append((int(week), int(theme), float(factor)))
    return tuple(sorted(out))


def _p(section: str, name: str, kind: str, default: Any, low: float | None, high: float | None,
       unit: str, meaning: str, effect: str | None = None, role: str | None = None) -> ParamSpec:
    if role is None:
        role = "world" if section != POLICY_SECTION else "lever"
    return ParamSpec(section, name, kind, default, low, high, unit, meaning, effect, role)


#: Every parameter of the model.  Defaults are the ``dynamic`` scenario and the ``annual``
#: policy; presets override some of them (see `okrsim.core.params`).  Reasons for each default
#: are in docs/model.md.
REGISTRY: tuple[ParamSpec, ...] = (
    # market ------------------------------------------------------------------------------
    _p("market", "n_themes", "int", 6, 2, 12, "themes", "number of strategic themes in the market"),
    _p("market", "shift_rate", "float", 1.5, 0, 12, "per year", "expected market shifts per year (Poisson process)"),
    _p("market", "shift_share", "float", 0.4, 0, 1, "share", "probability that a shift moves a given theme"),
    _p("market", "shift_persistence", "float", 0.5, 0, 0.99, "share", "share of a theme's log attractiveness that survives a shift (0 = redrawn afresh)"),
    _p("market", "spread", "float", 1.0, 0, 2, "log-sd", "spread of theme attractiveness (lognormal sigma)"),
    _p("market", "shocks", "shocks", (), None, None, "", "scheduled shocks: [week, theme, factor] multiplies a theme's attractiveness"),
    _p("market", "perception_noise", "float", 0.2, 0, 2, "log-sd", "noise in how planners perceive theme attractiveness"),
    _p("market", "detection_lag_weeks", "int", 4, 0, 26, "weeks", "delay before planners see a market change"),
    # portfolio ---------------------------------------------------------------------------
    _p("portfolio", "initial_backlog", "int", 120, 0, 500, "ideas", "ideas waiting at week 0"),
    _p("portfolio", "idea_rate", "float", 1.5, 0, 10, "per week", "new ideas per week (Poisson arrivals)"),
    _p("portfolio", "effort_median", "float", 6.0, 0.5, 100, "team-weeks", "median effort of an initiative"),
    _p("portfolio", "effort_sigma", "float", 0.8, 0, 2, "log-sd", "spread of effort (lognormal sigma; skewed)"),
    _p("portfolio", "idea_attraction", "float", 1.0, 0, 3, "exponent", "how strongly ideas arise in attractive themes: chance of theme ~ attractiveness^exponent (0 = uniform)"),
    _p("portfolio", "multi_team_share", "float", 0.4, 0, 1, "share", "share of initiatives that need two or three teams"),
    _p("portfolio", "value_median", "float", 1.0, 0.01, 1000, "value/week", "median value rate of a delivered initiative at attractiveness 1"),
    _p("portfolio", "value_sigma", "float", 1.0, 0, 3, "log-sd", "spread of value (lognormal sigma; heavy right tail)"),
    _p("portfolio", "secondary_theme_share", "float", 0.3, 0, 1, "share", "share of ideas that also serve a secondary theme"),
    _p("portfolio", "staleness_half_life_weeks", "float", 104.0, 0, 1040, "weeks", "an idea's value halves with this age before delivery (0 = never stale)"),
    _p("portfolio", "estimation_noise", "float", 0.5, 0, 2, "log-sd", "noise of value estimates (lognormal sigma)"),
    _p("portfolio", "assumption_bias", "float", 0.4, 0, 2, "log-sd", "spread of the unknown per-theme bias of estimates"),
    _p("portfolio", "bias_drift", "float", 0.5, 0, 1, "share", "share of a theme's assumption bias redrawn when a market shift or shock moves the theme: what planners learned about it ages (0 = knowledge never ages)"),
    _p("portfolio", "observation_noise", "float", 0.3, 0, 2, "log-sd", "noise of the value observed after delivery, from which retrospectives learn (0 = observed exactly)"),
    _p("portfolio", "leading_noise", "float", 1.0, 0, 3, "log-sd", "noise of a key result's leading measure of an initiative's value, read at check-ins, when half its work is done; it falls as the work progresses (to observation_noise at delivery)"),
    _p("portfolio", "conflict_rate", "float", 0.3, 0, 5, "per idea", "expected conflicts an idea has with other ideas"),
    _p("portfolio", "conflict_severity", "float", 0.5, 0, 1, "share", "share of the smaller value lost when both conflicting initiatives are live"),
    _p("portfolio", "synergy_rate", "float", 0.3, 0, 5, "per idea", "expected synergies an idea has with other ideas"),
    _p("portfolio", "synergy_bonus", "float", 0.4, 0, 2, "share", "extra value, as a share of the smaller value, when both synergetic initiatives are live"),
    _p("portfolio", "duplicate_rate", "float", 0.0, 0, 5, "per idea", "expected duplicates an idea has among other ideas: two initiatives that do the same thing, so that once both are live the smaller one's value is lost entirely (a conflict of severity 1; 0 = duplicates only as part of conflict_severity)"),
    _p("portfolio", "dependency_rate", "float", 0.3, 0, 5, "per idea", "expected blocking dependencies an idea has on earlier ideas: it delivers its value only once they are delivered"),
    _p("portfolio", "interaction_locality", "float", 0.5, 0, 1, "share", "share of conflicts, synergies, dependencies and duplicates between ideas of the same theme (the rest pair ideas at random)"),
    _p("portfolio", "team_locality", "float", 0.0, 0, 1, "share", "share of the interactions not made local by theme whose partner is an idea that shares a team with the first (the rest pair ideas at random; 0 = teams play no part)"),
    _p("portfolio", "rework_share", "float", 0.2, 0, 1, "share", "integration rework, as a share of an initiative's effort, its teams spend when a conflict or duplicate with a live initiative or a blocking dependency surfaces only at its delivery instead of in a joint workshop"),
    _p("portfolio", "effort_noise", "float", 0.4, 0, 2, "log-sd", "noise of effort estimates: the spread of log(actual / estimated effort) around effort_bias (0 = effort known exactly)"),
    _p("portfolio", "effort_bias", "float", 0.2, 0, 2, "log", "systematic underestimation of effort: the median initiative needs exp(effort_bias) times its estimate (0 = unbiased)"),
    _p("portfolio", "mandatory_share", "float", 0.1, 0, 0.5, "share", "share of the teams' change capacity (or of the ideas' work, if they demand less) that mandatory work (regulation, compliance) demands on average: each idea is mandatory with the probability that makes it so; mandatory work is due by a deadline whatever it is worth, so every policy ranks it first, earliest deadline first"),
    _p("portfolio", "deadline_weeks", "float", 26.0, 1, 156, "weeks", "mean weeks from a mandatory idea's arrival to its deadline (spread evenly from half to one and a half times this)"),
    _p("portfolio", "late_penalty", "float", 1.0, 0, 20, "x median/week", "penalty, in median value rates per week, while a mandatory initiative is past its deadline (fines, manual workarounds)"),
    _p("portfolio", "mvp_value", "float", 0.0, 0, 0.9, "share", "share of an initiative's value its first increment (a minimum viable product) earns once that increment's work is done, before the initiative is complete; it keeps earning if the rest is stopped (0 = indivisible initiatives)"),
    _p("portfolio", "mvp_effort", "float", 0.3, 0.05, 0.95, "share", "share of each part's effort the first increment needs (only with mvp_value > 0)"),
    _p("portfolio", "increment_cost", "float", 0.1, 0, 1, "share", "extra effort of building an initiative in increments (a second release and integration, reworking the first increment's shortcuts), as a share of its effort (only with mvp_value > 0)"),
    _p("portfolio", "waste_hurdle", "float", 0.25, 0, 10, "x median", "delivered work counts as waste below this share of the median idea's value per effort"),
    # organisation ------------------------------------------------------------------------
    _p("organisation", "n_teams", "int", 8, 1, 50, "teams", "number of delivery teams (one team-week of capacity each per week)"),
    _p("organisation", "run_share", "float", 0.0, 0, 0.9, "share", "share of each team's capacity that run work (operations, maintenance, incidents) takes before any change work; the portfolio's work and the time its planning events cost share the rest (0 = dedicated change teams)"),
    _p("organisation", "wip_limit", "int", 2, 1, 10, "initiatives", "initiatives a team works on at once (capacity is shared)"),
    _p("organisation", "wait_weeks", "float", 0.0, 0, 26, "weeks", "mean weeks a team's part of an initiative, once started, waits for others (an environment, a decision, another team's input) before the team can work on it; it holds its place in the team's work in progress meanwhile, so a team with more parallel work idles less (exponential, one draw per part; 0 = work never waits)"),
    _p("organisation", "multitasking_cost", "float", 0.0, 0, 1, "share", "capacity lost to switching between parts a team works on at once: with n parts it works at 1 / (1 + multitasking_cost * (n - 1)) of its capacity (0 = parallel work costs nothing)"),
    _p("organisation", "sponsor_spread", "float", 0.5, 0, 3, "log-sd", "spread of sponsors' political power over ideas"),
    _p("organisation", "sponsor_legacy", "float", 1.0, 0, 3, "exponent", "how much sponsor power follows the themes that were strong at week 0 (established business lines)"),
    _p("organisation", "local_priority_spread", "float", 1.0, 0, 3, "log-sd", "how far a team's own priorities stray from the global ranking without horizontal alignment"),
    _p("organisation", "local_knowledge", "float", 0.25, 0, 1, "share", "share of the spread of teams' own priorities and of sponsors' power that reflects what an idea's business case gets wrong (knowledge the planners lack; 0 = pure noise)"),
    _p("organisation", "politics_floor", "float", 0.2, 0, 1, "weight", "lowest weight sponsor power keeps in portfolio decisions, whatever weight the process aims for: how far OKRs (or any process) really reduce politics"),
    _p("organisation", "goal_displacement", "float", 0.1, 0, 1, "log", "how far key-result measures overstate the value of work on the cycle's objectives: teams move the metric more than the value it stands for (0 = measures are unbiased)"),
    _p("organisation", "commitment_loss", "float", 0.1, 0, 1, "share", "share of a delivered initiative's value lost when sponsors have no say in decisions (political weight 0); sponsors who shaped a decision drive its benefits"),
    _p("organisation", "okr_adoption_cycles", "float", 1.0, 0, 8, "cycles", "half-life, in OKR cycles, of an organisation's inexperience with OKRs: in its first cycles key results measure worse and objectives focus less (0 = practised from the start)"),
    _p("organisation", "attention_cost", "float", 0.5, 0, 4, "team-weeks", "leaders' and architects' time per planning event, reforecast and stage gate, for the organisation as a whole (not per team), taken from the delivery capacity, shared equally by the teams"),
    _p("organisation", "renegotiation_cost", "float", 0.05, 0, 1, "team-weeks", "capacity each team of an initiative in flight spends at every re-plan (a planning event after the first, or a reforecast) to re-confirm its scope, dates and people with its sponsor"),
    # horizon -----------------------------------------------------------------------------
    _p("horizon", "weeks", "int", 156, 13, 1040, "weeks", "simulated time"),
    # policy: agility ---------------------------------------------------------------------
    _p("policy", "cadence_weeks", "int", 52, 1, 52, "weeks", "weeks between planning events (portfolio decisions and OKR cycles)", "agility"),
    _p("policy", "can_stop_running_work", "bool", False, None, None, "", "whether planning may stop running initiatives that lost their value", "agility"),
    _p("policy", "planning_cost", "float", 1.0, 0, 4, "team-weeks", "capacity each team spends per planning event", "agility", "cost"),
    _p("policy", "switch_loss", "float", 0.3, 0, 1, "share", "share of done effort lost when an initiative is stopped", "agility", "cost"),
    _p("policy", "ramp_up_weeks", "float", 0.5, 0, 8, "team-weeks", "capacity each team of a stopped initiative loses to switch", "agility", "cost"),
    _p("policy", "change_board_weeks", "int", 4, 0, 26, "weeks", "weeks between change-board slots at which urgent new ideas may enter the plan in force during its cycle (0 = no change board)", "agility"),
    _p("policy", "change_delay_weeks", "float", 4.0, 0, 26, "weeks", "weeks from an idea's arrival until its change request (business case, impact analysis) can go to the change board", "agility", "cost"),
    _p("policy", "change_reserve", "float", 0.10, 0, 0.5, "share", "share of each cycle's capacity the plan leaves uncommitted for changes the board approves (with a change board only)", "agility", "setting"),
    _p("policy", "change_cost", "float", 0.2, 0, 2, "team-weeks", "capacity each team of an approved change spends on its impact analysis and on re-planning its work", "agility", "cost"),
    _p("policy", "review_weeks", "int", 0, 0, 26, "weeks", "weeks between stage-gate reviews that re-rank the plan's work on current information and, if stopping is allowed, stop work that no longer pays (0 = none)", "agility"),
    _p("policy", "review_cost", "float", 0.1, 0, 2, "team-weeks", "capacity each team spends per stage-gate review", "agility", "cost"),
    _p("policy", "reforecast", "bool", False, None, None, "", "whether each planning cycle has a reforecast half-way through: a re-plan of every known idea, with re-budgeting", "agility"),
    _p("policy", "reforecast_cost", "float", 0.5, 0, 4, "team-weeks", "capacity each team spends per mid-cycle reforecast", "agility", "cost"),
    _p("policy", "checkin_weeks", "int", 0, 0, 13, "weeks", "weeks between OKR check-ins that read the key results' leading measures of work in progress; the next plan or gate weighs that evidence against the business case (0 = no check-ins)", "agility"),
    _p("policy", "checkin_cost", "float", 0.02, 0, 0.5, "team-weeks", "capacity each team spends per check-in", "agility", "cost"),
    # policy: alignment -------------------------------------------------------------------
    _p("policy", "political_weight", "float", 0.4, 0, 1, "weight", "weight of sponsor power against strategic value in ranking", "alignment"),
    _p("policy", "budget_inertia", "float", 0.8, 0, 1, "per year", "share of last year's theme budget split that is kept per year", "alignment"),
    _p("policy", "horizontal_alignment", "float", 0.4, 0, 1, "share", "how far teams share one ranking and start shared initiatives together", "alignment"),
    _p("policy", "alignment_cost", "float", 0.1, 0, 2, "team-weeks", "capacity each team spends per planning event at full horizontal alignment", "alignment", "cost"),
    _p("policy", "n_objectives", "int", 2, 1, 12, "objectives", "themes chosen as OKR objectives each cycle", "alignment", "setting"),
    _p("policy", "okr_focus", "float", 0.3, 0, 3, "boost", "ranking boost for ideas serving an objective (1 + focus)", "alignment", "setting"),
    _p("policy", "aspirational_share", "float", 0.0, 0, 1, "share", "share of each cycle's objectives, the most attractive first, whose key results are aspirational (set at ambition times what the plan forecasts; OKR practice expects them to score about 0.7) rather than committed (set at the forecast, expected to score 1.0); key results are measurement: they change scores, not work", "alignment", "setting"),
    _p("policy", "ambition", "float", 1.5, 1, 3, "x forecast", "how far aspirational key results stretch beyond the forecast in the first cycle; with retrospectives, each cycle's aspirational scores move it so that they aim at 0.7 (scores feed the next cycle's ambition)", "alignment", "setting"),
    _p("policy", "focus_wip", "int", 0, 0, 10, "initiatives", "the focus rule: the most initiatives each team may work on at once, where it is below the organisation's wip_limit (stop starting, start finishing; 0 = no focus rule)", "alignment", "setting"),
    # policy: transparency ----------------------------------------------------------------
    _p("policy", "transparency", "float", 0.1, 0, 1, "share", "chance a joint workshop discovers a given conflict or synergy", "transparency"),
    _p("policy", "workshop_cost", "float", 0.25, 0, 2, "team-weeks", "capacity each team spends per planning event at transparency 1", "transparency", "cost"),
    # policy: learning --------------------------------------------------------------------
    _p("policy", "retrospectives", "bool", False, None, None, "", "whether each cycle ends with a retrospective that learns from delivered work (with stage gates, each review is also a post-implementation review)", "learning"),
    _p("policy", "learning_rate", "float", 0.5, 0.01, 1, "rate", "how fast evidence overrides the planners' prior about estimate bias", "learning", "setting"),
    _p("policy", "retro_cost", "float", 0.05, 0, 1, "team-weeks", "capacity each team spends per retrospective (and per post-implementation review at a stage gate)", "learning", "cost"),
)

def check_registry(table: Iterable[ParamSpec]) -> None:
    """Refuse a registry table with a slip in a line, naming the line's key.

    A registry line is the only place a parameter is defined (the section classes are made
    from it), so a typo in a section, kind or range must fail at import, not later as a
    missing field or a silent default.

    Raises
    ------
    ValueError
        A wrong section, kind or name, a default outside its range, a lever without an
        effect, or a key given twice.
    """
    seen: set[str] = set()
    for p in table:
        problems = []
        if p.section not in (*SCENARIO_SECTIONS, POLICY_SECTION):
            problems.append(f"section must be one of {', '.join((*SCENARIO_SECTIONS, POLICY_SECTION))}")
        if not p.name.isidentifier() or p.name.startswith("_") or p.name in _RESERVED:
            problems.append(f"name must be a Python identifier, not starting with '_' and not one of {sorted(_RESERVED)}")
        if p.kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}")
        elif p.kind in ("int", "float") and (p.low is None or p.high is None or not p.low <= p.default <= p.high):
            problems.append("numbers need low <= default <= high")
        if p.section == POLICY_SECTION and (p.effect not in EFFECTS or p.role not in ("lever", "cost", "setting")):
            problems.append(f"levers need an effect ({', '.join(EFFECTS)}) and a role (lever, cost or setting)")
        if p.section != POLICY_SECTION and (p.effect is not None or p.role != "world"):
            problems.append("world parameters have no effect and the role 'world'")
        if p.key in seen:
            problems.append("the key is defined twice")
        seen.add(p.key)
        if problems:
            raise ValueError(f"registry entry {p.key}: " + "; ".join(problems))


check_registry(REGISTRY)
_BY_KEY: dict[str, ParamSpec] = {p.key: p for p in REGISTRY}


def specs(section: str | None = None) -> tuple[ParamSpec, ...]:
    """Parameters of one section (or all), in registry order."""
    if section is None:
        return REGISTRY
    return tuple(p for p in REGISTRY if p.section == section)


def lookup(key: str) -> ParamSpec:
    """Find a parameter by dotted key (``market.shift_rate``) or unique bare name.

    Misspelt names get the closest valid names in the error, because a typo in a sweep
    file should cost seconds, not a silent default.
    """
    if not isinstance(key, str):
        raise ParameterError(f"parameter names must be text such as 'market.shift_rate'; got {show(key)} "
                             f"({type(key).__name__}); run `okrsim params` for the list")
    if key in _BY_KEY:
        return _BY_KEY[key]
    if "." not in key:
        hits = [p for p in REGISTRY if p.name == key]
        if len(hits) == 1:
            return hits[0]
    names = list(_BY_KEY) + [p.name for p in REGISTRY]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run `okrsim params` for the list"
    raise ParameterError(f"unknown parameter {key!r}{hint}")
