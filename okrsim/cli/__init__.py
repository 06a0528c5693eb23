"""The ``okrsim`` command line (layer 5 of 5: it may import every other layer).

`okrsim.cli.main` holds the parser and the core commands; `okrsim.cli.research` and
`okrsim.cli.views` add subcommands through its plug-in list.
"""

from okrsim.cli.main import main

__all__ = ["main"]
