"""The guard: one decision (allow, ask or deny) for every tool call, from one policy.

Entry points: :class:`tether.guard.engine.Guard` and :class:`tether.guard.engine.GuardContext`.
Nothing is imported here: the hook loads only what a decision needs.
"""
