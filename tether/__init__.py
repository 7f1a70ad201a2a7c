"""Tether: a guard and flight recorder for AI coding agents."""

__version__ = "0.1.0"
