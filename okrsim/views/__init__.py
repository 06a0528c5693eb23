"""What people look at: data prepared for views, charts, the house style, reports, the
interactive explorer and offline rendering in notebooks.

Layer 4 of 5 (core < model < experiments < views | teaching < cli).
"""
