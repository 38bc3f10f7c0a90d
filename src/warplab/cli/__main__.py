"""``python -m warplab.cli`` is the ``warplab`` command (what ``torchrun -m warplab.cli train`` starts)."""

import sys

from warplab.cli.main import main

sys.exit(main())
