"""``python -m app.cli``: the same as the ``docsearch`` script."""

import sys

from app.cli.main import main

sys.exit(main())
