"""What the pages share: sidebar controls, the query box and example pills, the session's store
(with an upload), predict-then-reveal, text escaping and CSV downloads; plus one module of
page-specific widgets for each page too large for one file (recommender, transformer)."""
