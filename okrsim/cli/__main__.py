"""``python -m okrsim.cli``: the same as the ``okrsim`` command."""

import sys

from okrsim.cli.main import main

sys.exit(main())
