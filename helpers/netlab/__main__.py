"""``python -m helpers.netlab``: run a scenario of the live lab, or clean up after one.

    python -m helpers.netlab check
    python -m helpers.netlab run lab2 --out flowlogs/ [--interval 60]
    python -m helpers.netlab cleanup
"""

import sys

from helpers.netlab.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
