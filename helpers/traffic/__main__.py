"""``python -m helpers.traffic``: see :mod:`helpers.traffic.cli`."""

import sys

from helpers.traffic.cli import main

if __name__ == "__main__":
    sys.exit(main())
