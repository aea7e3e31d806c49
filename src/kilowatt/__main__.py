"""``python -m kilowatt``: see kilowatt.cli."""

import sys

from kilowatt.cli import main

if __name__ == "__main__":
    sys.exit(main())
