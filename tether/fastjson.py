"""JSON for the hook's hot path, through CPython's C accelerator directly.

``import json`` also imports ``re`` and, through it, ``enum``: several
milliseconds in a process that lives for one hook event. The C scanner and
encoder that ``json`` itself uses need neither; this module calls them with the
same settings ``json.loads`` and ``json.dumps(..., separators=(",", ":"))``
use, and falls back to the ``json`` module where the accelerator is missing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - Python builds without the accelerator
    _json = None  # type: ignore[assignment]

_WS = " \t\n\r"


def _constant(name: str) -> float:
    return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


class _Context:
    """The attributes the C scanner reads from a decoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_constant)


def _default_error(obj: object) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def loads(data: str | bytes) -> Any:
    """Like ``json.loads`` for UTF-8 text; ValueError on anything that is not one JSON document."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    if _json is None:
        import json

        return json.loads(text)
    scan = _json.make_scanner(_Context())  # type: ignore[arg-type]
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = scan(text, start)
    except StopIteration as stop:
        raise ValueError(f"Expecting value: char {stop.value}") from None
    rest = text[end:]
    if rest.strip(_WS):
        raise ValueError(f"Extra data: char {end}")
    return value


def dumps(value: Any, *, sort_keys: bool = False, ensure_ascii: bool = False, default: Any = None) -> str:
    """Compact JSON, like ``json.dumps(value, separators=(",", ":"))``."""
    if _json is None:
        import json

        return json.dumps(value, sort_keys=sort_keys, ensure_ascii=ensure_ascii, default=default,
                          separators=(",", ":"))
    encode = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    encoder = _json.make_encoder({}, default or _default_error, encode, None, ":", ",", sort_keys, False, True)
    return "".join(encoder(value, 0))
