"""The command handlers: one module per family of programs.

Each handler takes the :class:`~tether.guard.analysis.Analyzer` and a
:class:`~tether.guard.analysis.Cmd` and records what the command would do. The
modules never import each other: a handler that needs another family's view of a
command (``python -m pip`` is pip) asks the analyser to dispatch it through
:mod:`tether.guard.registry`, which also keeps the hook from importing handlers
it does not need.
"""
