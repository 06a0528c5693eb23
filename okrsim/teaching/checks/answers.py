"""Reading participants' answers: plain Python values in, clean values or a specific complaint out.

Every reader raises `AnswerError` with a message that says what was expected and what to type
instead, or `Incomplete` when parts of a multi-part answer are still ``...``.  Graders never
see a malformed answer, and participants never see a traceback.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Iterable, Mapping
from typing import Any

from okrsim.core.errors import ParameterError
from okrsim.core.params import POLICY_PRESETS, Policy
from okrsim.core.registry import POLICY_SECTION, lookup, specs

from .feedback import AnswerError, Incomplete

__all__ = ["is_blank", "levers", "mapping", "name", "number", "text"]

#: Why a policy parameter that is a price (role "cost") cannot be chosen in an exercise.
COST_REASON = ("{key} is a price the organisation pays, not a choice it makes: the exercise fixes it "
               "(wishing a cost away would make every lever look free)")


def is_blank(value: Any) -> bool:
    """``...`` and ``None`` mean "not answered yet"."""
    return value is Ellipsis or value is None


def number(value: Any, what: str, low: float | None = None, high: float | None = None, unit: str = "") -> float:
    """A finite real number in [low, high].

    Strings like ``"30%"`` or ``"30"`` are refused with the exact number to type instead,
    because the check would otherwise guess what was meant.
    """
    unit_text = f" {unit}" if unit else ""
    if isinstance(value, bool):
        raise AnswerError("type", f"{what} must be a number{unit_text}; got {value!r}, a truth value.",
                          "Write a number such as 12.5, without quotes.")
    if isinstance(value, str):
        stripped = value.strip().rstrip("%").strip()
        try:
            as_number = float(stripped.replace(",", "."))
        except ValueError:
            raise AnswerError("type", f"{what} must be a number{unit_text}; got the text {value!r}.",
                              "Write a number such as 12.5, without quotes.") from None
        raise AnswerError("type", f"{what} must be a number, not text: write {as_number:g} without quotes"
                          + (" or a % sign" if "%" in value else "") + ".", "Numbers go without quotes.")
    if hasattr(value, "item") and not isinstance(value, numbers.Real):  # numpy or pandas scalar
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if not isinstance(value, numbers.Real):
        raise AnswerError("type", f"{what} must be one number{unit_text}; got {type(value).__name__} {_short(value)}.",
                          "If you computed a table or a series, pick the one cell the task asks for "
                          "(e.g. with .loc[...]) and wrap it in float(...).")
    try:
        x = float(value)
    except OverflowError:  # an integer too large for a float: out of any range
        x = math.copysign(math.inf, value)
    if not math.isfinite(x):
        raise AnswerError("type", f"{what} must be a finite number{unit_text}; got {x}.",
                          "NaN usually means a KPI was undefined in every replication (for example an "
                          "adaptation lag in a world without market changes); check the KPI and the scenario.")
    if (low is not None and x < low) or (high is not None and x > high):
        raise AnswerError("range", f"{what} = {x:g} is outside the valid range "
                          f"[{_fmt(low)}, {_fmt(high)}]{unit_text}.", _range_hint(what, low, high))
    return x


def name(value: Any, what: str, options: Iterable[str], aliases: Mapping[str, str] | None = None) -> str:
    """One of `options` (a policy name, a KPI name ...), with a did-you-mean for typos."""
    options = list(options)
    if not isinstance(value, str):
        raise AnswerError("type", f"{what} must be a name in quotes, one of {_list(options)}; got {_short(value)}.",
                          f"Write it as text, e.g. {options[0]!r}.")
    key = value.strip()
    if aliases and key in aliases:
        key = aliases[key]
    if key in options:
        return key
    close = difflib.get_close_matches(key, options, n=2, cutoff=0.5)
    close += [o for o in options if key and key.lower() in o.lower() and o not in close]
    suggestion = f" Did you mean {' or '.join(repr(c) for c in close[:2])}?" if close else ""
    raise AnswerError("unknown_name", f"{what} = {value!r} is not one of {_list(options)}.{suggestion}",
                      "Names must match exactly, including underscores.")


def text(value: Any, what: str) -> str:
    """Free text (its length is judged by the grader, which knows what the text is for)."""
    if not isinstance(value, str):
        raise AnswerError("type", f"{what} must be text in quotes; got {_short(value)}.",
                          "Write a sentence or two between quotes.")
    return value.strip()


def mapping(value: Any, what: str, required: Iterable[str]) -> dict[str, Any]:
    """A dict with exactly the `required` keys; parts still ``...`` raise `Incomplete`."""
    required = list(required)
    if not isinstance(value, Mapping):
        skeleton = "{" + ", ".join(f'"{k}": ...' for k in required) + "}"
        raise AnswerError("type", f"{what} must be a dict with the keys {_list(required)}; got {_short(value)}.",
                          f"Start from {skeleton} and fill in each part.")
    unknown = [k for k in value if k not in required]
    if unknown:
        bad = unknown[0]
        close = difflib.get_close_matches(str(bad), required, n=1, cutoff=0.5)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise AnswerError("unknown_key", f"{what} has an unexpected key {bad!r}; the keys are {_list(required)}."
                          + suggestion, "Keep the keys exactly as given in the task cell.")
    missing = [k for k in required if k not in value or is_blank(value[k])]
    if missing:
        raise Incomplete(missing)
    return dict(value)


def levers(value: Any, what: str, base: Policy, allowed: Iterable[str] | None = None,
           refuse: Mapping[str, str] | None = None) -> Policy:
    """A policy: `base` with the lever changes in a dict, or the levers of a `Policy` or preset name.

    A whole policy contributes its levers only: the task's prices (cost parameters of `base`)
    replace its own, so that a preset cannot smuggle in cheaper planning.

    Parameters
    ----------
    allowed : iterable of str, optional
        Levers the exercise lets participants choose; others raise ``not_allowed`` with the
        reason from `refuse` (e.g. "cadence is agility; this exercise keeps the annual cycle").
        Cost parameters and world parameters are always refused, with the reason.
    """
    refuse = dict(refuse or {})
    if isinstance(value, (str, os.PathLike)):  # a preset name or a policy file, read as everywhere else
        try:
            value = Policy.coerce(value)
        except ParameterError as exc:
            raise AnswerError("unknown_name", f"{what}: {exc}.",
                              f"Use a preset name ({_list(POLICY_PRESETS)}) or a dict of lever changes.") from None
    if isinstance(value, Policy):  # its levers count; the task's prices replace its costs
        costs = {p.name for p in specs(POLICY_SECTION) if p.role == "cost"}
        changes = {k: v for k, v in value.to_dict().items()
                   if k != "name" and k not in costs and v != getattr(base, k)}
    elif isinstance(value, Mapping):
        changes = dict(value)
    else:
        raise AnswerError("type", f"{what} must be a dict of lever changes such as "
                          f"{{'political_weight': 0.2}}, an okrsim.Policy or a preset name; got {_short(value)}.",
                          "Write the levers you change as a dict: names in quotes, values as numbers or True/False.")
    allowed_set = set(allowed) if allowed is not None else {p.name for p in specs(POLICY_SECTION) if p.role != "cost"}
    clean: dict[str, Any] = {}
    for key, val in changes.items():
        if not isinstance(key, str):
            raise AnswerError("type", f"{what}: lever names must be text; got {key!r}.", "Put lever names in quotes.")
        bare = key[len("policy."):] if key.startswith("policy.") else key
        try:
            spec = lookup(bare if "." in bare else f"policy.{bare}")
        except ParameterError:
            try:
                spec = lookup(bare)
            except ParameterError as exc:
                raise AnswerError("unknown_name", f"{what}: {exc}", "Run `okrsim params` to list every lever.") from None
        if spec.section != POLICY_SECTION:
            raise AnswerError("world", f"{what}: {spec.key} is part of the world (the scenario), not a lever the "
                              "organisation can pull.", "Change only policy levers; the exercise fixes the world.")
        if is_blank(val):
            raise Incomplete([spec.name])
        if spec.role == "cost":
            raise AnswerError("cost_is_given", COST_REASON.format(key=spec.name),
                              "Leave the cost parameters out of your answer.")
        if spec.name not in allowed_set:
            reason = refuse.get(spec.name) or refuse.get(spec.effect or "", "")
            raise AnswerError("not_allowed", f"{what}: this task does not let you change {spec.name}. {reason}".strip(),
                              f"The levers you may change here: {_list(sorted(allowed_set))}.")
        try:
            clean[spec.name] = spec.validate(val)
        except ParameterError as exc:
            raise AnswerError("range", f"{what}: {exc}.", f"Valid: {spec.describe_range()}.") from None
    try:
        return base.replace(clean, name="your_policy")
    except ParameterError as exc:  # pragma: no cover - every value was validated above
        raise AnswerError("range", f"{what}: {exc}") from None


def _fmt(x: float | None) -> str:
    if x is None:
        return "…"
    return f"{x:g}"


def _list(items: Iterable[str]) -> str:
    return ", ".join(repr(i) for i in items)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _range_hint(what: str, low: float | None, high: float | None) -> str:
    if low == 0 and high is not None:
        return "Negative values make no sense here: check the sign of your calculation."
    return f"Stay within [{_fmt(low)}, {_fmt(high)}]."
