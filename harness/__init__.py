"""End-to-end harness: the real Claude Code CLI driven against a scripted, offline model.

Import from the submodules (``harness.scripted_model``, ``harness.claude``): this package module
stays empty so that ``python -m harness.scripted_model`` does not import its own module twice.
"""
