"""Evaluations that read the shared corpora at run time (`make eval`)."""
