"""SHA-1 (git object ids) and SHA-256 (the journal's chain) without OpenSSL's start-up cost.

``hashlib`` loads OpenSSL on import, which costs milliseconds in a process that
lives for one hook event; CPython's built-in implementations are just as correct.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import sha1, sha256
else:
    try:
        from _sha1 import sha1
    except ImportError:  # pragma: no cover - other Python builds
        from hashlib import sha1
    try:
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - Python 3.12 renamed the module
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256

__all__ = ["sha1", "sha256"]
