"""What a check says back: the `Feedback` a participant sees, and the pieces graders build it from.

Good autograders (otter-grader, nbgrader) answer at once and explain *why* an answer is off.
A grader here returns a `Verdict` (correct or not, a short issue code, a message naming the
part that is wrong and why, and hints of rising strength); `okrsim.teaching.checks.check` turns it into
a `Feedback`, counting wrong tries per task so that the first wrong try gets a nudge, the
second a stronger hint, and the third a pointer at the mechanism and the notebook that shows it.

Feedback prints as plain text (what nbval compares and what a terminal shows) and renders as a
small coloured box in JupyterLab.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATUSES", "AnswerError", "Feedback", "Incomplete", "Task", "Verdict"]

#: Every status a check can report, from best to "nothing to check yet".
STATUSES: tuple[str, ...] = ("correct", "incorrect", "invalid", "incomplete", "not attempted")

_SYMBOL = {"correct": "✔", "incorrect": "✘", "invalid": "⚠", "incomplete": "…", "not attempted": "…"}
_HEADLINE = {
    "correct": "correct",
    "incorrect": "not yet",
    "invalid": "cannot check this answer",
    "incomplete": "incomplete",
    "not attempted": "not attempted yet",
}
_COLOUR = {"correct": "#2e7d32", "incorrect": "#c62828", "invalid": "#ef6c00", "incomplete": "#757575",
           "not attempted": "#757575"}


@dataclass(frozen=True)
class Verdict:
    """A grader's judgement of one well-formed answer.

    Attributes
    ----------
    correct : bool
    issue : str
        Short code of what was found (``"correct"``, ``"sign"``, ``"too_high"`` ...); tests and
        trainers use it to tell typical mistakes apart without parsing prose.
    message : str
        Which part is right or wrong, and why, in the words of the model.
    hints : tuple of str
        Up to three hints of rising strength for this issue; missing levels fall back to the
        task's general hints.
    reference : Mapping[str, float]
        The model's numbers behind the verdict (for trainers and tests; messages to
        participants reveal them only once the answer is correct).
    """

    correct: bool
    issue: str
    message: str
    hints: tuple[str, ...] = ()
    reference: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """One exercise task: what to answer, how it is checked, and the grader that checks it.

    Attributes
    ----------
    id : str
        ``"NN-name"``; NN is the exercise notebook's number.
    title : str
    notebook : str
        The participant notebook, relative to the repository root.
    variable : str
        The variable the participant fills in (shown in "not attempted yet").
    expects : str
        What kind of value the answer is, in a few words.
    tolerance : str
        How close is close enough and why; the task text in the notebook says the same.
    grade : callable
        Well-formed answer -> `Verdict`; raises `AnswerError` or `Incomplete` for others.
    hints : tuple of str
        Three general hints of rising strength; the third points at the mechanism and the
        notebook or documentation section that shows it.
    """

    id: str
    title: str
    notebook: str
    variable: str
    expects: str
    tolerance: str
    grade: Callable[[Any], Verdict]
    hints: tuple[str, str, str]


class AnswerError(Exception):
    """An answer that cannot be graded: wrong type, unknown name, out of the valid range.

    Raised by the answer readers (`okrsim.teaching.checks.answers`) and turned into an ``invalid``
    `Feedback`, never into a traceback: a participant who typed ``"30%"`` needs to read
    "write 30", not a stack of numpy frames.
    """

    def __init__(self, issue: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.issue = issue
        self.message = message
        self.hint = hint


class Incomplete(Exception):
    """Some parts of a multi-part answer are still ``...``."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing


@dataclass(frozen=True)
class Feedback:
    """Result of `okrsim.teaching.checks.check`: shown in the notebook, inspectable in code.

    Attributes
    ----------
    task : str
        Task id, e.g. ``"01-advantage"``.
    status : str
        One of `STATUSES`.
    message : str
        What is right or wrong, and why.
    hint : str
        Empty when correct; otherwise a hint that grows stronger with each wrong try.
    attempt : int
        Wrong tries of this task so far in this Python process (``okrsim.teaching.checks.reset`` clears).
    issue : str
        Short code of the diagnosed issue (see `Verdict`).
    reference : Mapping[str, Any]
        The model's numbers the answer was compared with.
    """

    task: str
    status: str
    message: str
    hint: str = ""
    attempt: int = 0
    issue: str = ""
    reference: Mapping[str, Any] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        """Whether the answer passed the check."""
        return self.status == "correct"

    @property
    def attempted(self) -> bool:
        """False while the answer is still ``...`` (or ``None``)."""
        return self.status != "not attempted"

    def text(self) -> str:
        """Plain-text form: the same words as the HTML box, for nbval, terminals and logs."""
        head = f"{_SYMBOL[self.status]} {self.task}: {_HEADLINE[self.status]}"
        if self.status == "incorrect":
            head += f" (wrong try {self.attempt})"
        lines = [head, self.message]
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(line for line in lines if line)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text/plain
        printer.text(self.text())

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.status]
        head = f"{_SYMBOL[self.status]} <b>{html.escape(self.task)}</b>: {html.escape(_HEADLINE[self.status])}"
        if self.status == "incorrect":
            head += f" (wrong try {self.attempt})"
        body = f"<div>{html.escape(self.message)}</div>" if self.message else ""
        hint = f"<div><i>Hint:</i> {html.escape(self.hint)}</div>" if self.hint else ""
        return (f'<div class="okrsim-feedback" style="border-left: 4px solid {colour}; padding: 4px 8px; '
                f'margin: 4px 0"><div style="color: {colour}">{head}</div>{body}{hint}</div>')
