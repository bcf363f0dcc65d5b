"""``python -m ui.locales update`` re-extracts and merges the catalogues; ``check`` lists what is missing."""

from __future__ import annotations

import sys

from ui.locales import main

sys.exit(main(sys.argv[1:]))
