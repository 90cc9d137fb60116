"""``python -m minicompress`` is the ``minicompress`` command."""
import sys

from minicompress.cli import main

sys.exit(main())
