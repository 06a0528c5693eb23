"""Foundations every other layer stands on: the parameter registry, the validated `Scenario`
and `Policy`, random streams, the kit's error type and file I/O.

Layer 1 of 5 (core < model < experiments < views | teaching < cli): modules here import
nothing else from okrsim, so a parameter is defined and validated in one place.
"""
