"""Redaction of secrets before anything an agent produced is stored.

A small set of well-known credential shapes, cheap enough for the hook's hot
path. Redaction keeps the secret's kind so a reader still knows what was there.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Any

_PATTERNS: list[tuple[str, str, int]] = [
    # (kind, pattern, group to replace; 0 = whole match)
    ("private-key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", 0),
    ("aws-access-key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b", 0),
    ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b", 0),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", 0),
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", 0),
    ("openai-key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{32,}", 0),
    ("stripe-key", r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}\b", 0),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0),
    ("bearer-token", r"(?i)\bbearer\s+([A-Za-z0-9._~+/\-]{16,}=*)", 1),
    ("url-password", r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]+:([^/\s@]+)@", 1),
    ("assigned-secret",
     r"(?i)\b[A-Z0-9_\-]*(?:password|passwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|"
     r"client[_\-]?secret|auth)[A-Z0-9_\-]*\b[\"']?\s*[:=]\s*[\"']?([^\s\"',;]{8,})", 1),
]

_compiled: list[tuple[str, re.Pattern[str], int]] | None = None


def _rules() -> list[tuple[str, re.Pattern[str], int]]:
    global _compiled
    if _compiled is None:
        import re

        _compiled = [(kind, re.compile(p), group) for kind, p, group in _PATTERNS]
    return _compiled


# Substrings every match of some pattern contains. A text with none of them cannot hold a
# secret these patterns find, and is passed through without compiling a single regex.
_MARKERS = ("-----begin", "akia", "asia", "agpa", "aida", "aroa", "anpa", "ghp_", "gho_", "ghu_", "ghs_",
            "ghr_", "github_pat_", "xox", "sk-", "sk_", "pk_", "rk_", "aiza", "eyj", "bearer")
_NAMES = ("pass", "secret", "token", "key", "auth")


def _looks_clean(text: str) -> bool:
    lowered = text.lower()
    if any(s in lowered for s in _MARKERS):
        return False
    if "://" in lowered and "@" in lowered:
        return False
    return not (("=" in text or ":" in text) and any(n in lowered for n in _NAMES))


def redact_text(text: str) -> str:
    if not text or _looks_clean(text):
        return text
    for kind, rx, group in _rules():
        if group == 0:
            text = rx.sub(f"[REDACTED:{kind}]", text)
        else:
            def _sub(m: re.Match[str], kind: str = kind, group: int = group) -> str:
                start, end = m.span(group)
                base = m.start()
                whole = m.group(0)
                return whole[: start - base] + f"[REDACTED:{kind}]" + whole[end - base:]
            text = rx.sub(_sub, text)
    return text


def redact(value: Any, limit: int | None = None) -> Any:
    """A copy of a JSON value with secrets redacted in every string (and long strings cut)."""
    if isinstance(value, str):
        if limit is None or len(value) <= limit:
            return redact_text(value)
        # Redact before cutting, so no secret is cut in half and kept in part; with a margin
        # beyond the cut, since nothing past it is kept anyway.
        kept = redact_text(value[:limit + 4096])[:limit]
        return kept + f"\n[... {len(value) - limit} more characters not stored]"
    if isinstance(value, dict):
        return {str(k): redact(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, limit) for v in value]
    return value
