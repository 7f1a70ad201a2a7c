"""The per-user daemon: one long-lived process that answers every workspace's hook events.

``client`` is what a hook process imports (almost nothing: it must stay cheap);
``server`` is the daemon itself and sits above the hook, whose code it runs;
``watch`` keeps, per workspace, the paths that changed since the last walk.
"""
