"""``python3 -m warplab.bench ...``: the same options and code as ``warplab bench ...``."""

import sys

from warplab.cli.bench import main

sys.exit(main())
