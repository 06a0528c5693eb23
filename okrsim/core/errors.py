"""The one exception type users see for bad input.

A single class lets the command line turn every input problem into a one-line message
without a traceback, and lets notebooks catch bad slider or file values in one place.
"""

from __future__ import annotations

__all__ = ["ParameterError"]


class ParameterError(ValueError):
    """Invalid parameter name, type, value or combination.

    The message always names the parameter, the offending value and what would be valid,
    because the person reading it is usually typing a value into a file, a CLI flag or a
    widget and needs to know what to type instead.
    """
