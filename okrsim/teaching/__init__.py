"""Teaching material in code: the checks behind the exercises (`okrsim.teaching.checks`).

Layer 4 of 5, beside the views (core < model < experiments < views | teaching < cli);
teaching and views do not import each other.
"""
