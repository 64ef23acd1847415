"""``python -m codesign``: the ``codesign`` command line."""

import sys

from codesign.cli import main

sys.exit(main())
