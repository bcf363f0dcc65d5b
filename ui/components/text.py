"""Text escaping: user data (titles, queries, file names, model names) shown literally.

The rule lives in the library (:func:`retrieval_attention.export.markup.md`), so that a page and
the document builders escape the same way.
"""

from __future__ import annotations

from retrieval_attention.export.markup import md

__all__ = ["md"]
