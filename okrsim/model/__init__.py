"""The simulation model: market, ideas, governance, the SimPy run, its record and KPIs.

Layer 2 of 5 (core < model < experiments < views | teaching < cli): it knows parameters
(`okrsim.core`) and nothing about experiments, charts or the command line.
"""
