"""Immediate feedback for the exercises in ``exercises/``: one check per task.

Usage in a notebook::

    from okrsim.teaching.checks import check

    ADVANTAGE_PERCENT = ...          # fill in
    check("01-advantage", ADVANTAGE_PERCENT)

An answer left as ``...`` (or ``None``) reports "not attempted yet"; a malformed one says what
to type instead; a wrong one says which part is wrong and why, with hints that grow stronger on
each wrong try (counted per task in this Python process; `reset` clears them).  References are
computed by the model when the check runs (fixed seeds, paired replications, cached per process),
never typed in, so they follow the model; every tolerance is stated in the task text and in
`okrsim.teaching.checks.tasks`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from . import break_even, first_steps, levers
from .answers import is_blank
from .feedback import STATUSES, AnswerError, Feedback, Incomplete, Task, Verdict

__all__ = ["STATUSES", "TASKS", "AnswerError", "Feedback", "Task", "Verdict", "check", "reset", "task", "tasks"]

#: Every task, in exercise order.
TASKS: dict[str, Task] = {t.id: t for t in (*first_steps.TASKS, *break_even.TASKS, *levers.TASKS)}

_wrong_tries: dict[str, int] = {}


def tasks() -> list[Task]:
    """All tasks in exercise order (id, title, notebook, what to answer, tolerance)."""
    return list(TASKS.values())


def task(task_id: str) -> Task:
    """One task by id, e.g. ``task("01-advantage")``."""
    if task_id not in TASKS:
        close = difflib.get_close_matches(str(task_id), list(TASKS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown task {task_id!r}{hint} Tasks: {', '.join(TASKS)}")
    return TASKS[task_id]


def reset(task_id: str | None = None) -> None:
    """Forget wrong tries (of one task, or all), so hints start gentle again."""
    if task_id is None:
        _wrong_tries.clear()
    else:
        _wrong_tries.pop(task_id, None)


def check(task_id: str, answer: Any) -> Feedback:
    """Check `answer` to task `task_id` and say what is right or wrong, and why.

    Parameters
    ----------
    task_id : str
        E.g. ``"01-advantage"``; `tasks()` lists them.
    answer : Any
        The value of the task's answer variable; ``...`` or ``None`` means not attempted yet.

    Returns
    -------
    Feedback
        Shown as text (and as a coloured box in JupyterLab); ``.correct``, ``.status``,
        ``.message``, ``.hint`` and ``.issue`` are there for code.
    """
    try:
        t = task(task_id)
    except KeyError as exc:
        return Feedback(str(task_id), "invalid", str(exc.args[0]), "Copy the task id from the task text.",
                        issue="unknown_task")
    if is_blank(answer):
        return Feedback(t.id, "not attempted", f"Replace the ... in {t.variable} = ... with your answer ({t.expects}) "
                        "and run the cell again.", issue="not_attempted")
    if isinstance(answer, Mapping) and answer and all(is_blank(v) for v in answer.values()):
        return Feedback(t.id, "not attempted", f"Replace each ... in {t.variable} with your answer ({t.expects}) and "
                        "run the cell again.", issue="not_attempted")
    try:
        verdict = t.grade(answer)
    except Incomplete as exc:
        parts = ", ".join(repr(m) for m in exc.missing)
        return Feedback(t.id, "incomplete", f"{t.variable} still has parts to fill in: {parts}.",
                        "Replace each ... with your answer.", issue="incomplete")
    except AnswerError as exc:
        return Feedback(t.id, "invalid", exc.message, exc.hint, _wrong_tries.get(t.id, 0), exc.issue)
    if verdict.correct:
        return Feedback(t.id, "correct", verdict.message, "", _wrong_tries.get(t.id, 0), verdict.issue,
                        verdict.reference)
    tries = _wrong_tries[t.id] = _wrong_tries.get(t.id, 0) + 1
    level = min(tries, 3) - 1
    hint = verdict.hints[level] if level < len(verdict.hints) else t.hints[level]
    return Feedback(t.id, "incorrect", verdict.message, hint, tries, verdict.issue)  # no reference: no spoilers
