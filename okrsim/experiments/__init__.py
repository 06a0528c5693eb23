"""Experiments on the model: paired comparisons, statistics, designs, sweeps, executors,
the result store, and the analyses (sensitivity, decomposition, thresholds).

Layer 3 of 5 (core < model < experiments < views | teaching < cli).  Nothing here imports
altair or ipywidgets, so a dask worker needs only the core and research dependencies.
"""
