"""python -m sparsebyte: the same as the `sparsebyte` command."""

import sys

from .cli import main

sys.exit(main())
