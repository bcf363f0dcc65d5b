"""``python -m retrieval_attention``: see :mod:`retrieval_attention.cli`."""

from .cli import main

raise SystemExit(main())
