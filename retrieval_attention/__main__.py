"""``python -m retrieval_attention``: see :mod:`retrieval_attention.cli`."""

from retrieval_attention.cli import main

raise SystemExit(main())
