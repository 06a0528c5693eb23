"""The version of okrsim: the single source for the package metadata and for result files.

Result stores, exported settings and reports record the version that made them, so that a
reader can tell which model produced a number.
"""

__all__ = ["__version__"]

__version__ = "0.2.0.dev0"
