"""Redaction of secrets before anything an agent produced is stored.

A small set of well-known credential shapes, cheap enough for the hook's hot
path. Redaction keeps the secret's kind so a reader still knows what was there.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Any

# (kind, pattern, group to replace (0 = whole match), markers, more markers). Every match of a
# pattern holds one of its markers (in lower case), and one of its more markers if it has any: a
# rule whose markers are absent from a text cannot match it, and is neither compiled nor run, so
# a text compiles only the few rules it may need (the largest takes over a millisecond).
_PATTERNS: list[tuple[str, str, int, tuple[str, ...], tuple[str, ...]]] = [
    ("private-key",
     r"(?:-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----)[\s\S]*?"
     r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|---- END SSH2 ENCRYPTED PRIVATE KEY ----|\Z)", 0,
     ("-----begin", "---- begin ssh2"), ()),
    ("private-key", r"PuTTY-User-Key-File-\d+:[\s\S]*?(?:Private-MAC: [0-9a-fA-F]+|\Z)", 0,
     ("putty-user-key-file",), ()),
    ("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|A3T[A-Z0-9])[0-9A-Z]{16}\b", 0,
     ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "anpa", "a3t"), ()),
    # detect-secrets' rule for a secret access key: 40 characters, quoted, near "aws" and "key".
    ("aws-secret-key",
     r"(?i)aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"]([0-9a-zA-Z/+]{40})['\"]", 1, ("aws",), ()),
    ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b", 0,
     ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), ()),
    ("gitlab-token", r"\bgl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-[A-Za-z0-9_\-]{20,}", 0,
     ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-", "glagent-", "gloas-"), ()),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", 0, ("xox",), ()),
    ("slack-webhook", r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+", 0,
     ("hooks.slack.com",), ()),
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", 0, ("sk-ant-",), ()),
    ("openai-key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{32,}", 0, ("sk-",), ()),
    ("stripe-key", r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}\b", 0, ("sk_", "pk_", "rk_"), ()),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0, ("aiza",), ()),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", 0, ("npm_",), ()),
    ("pypi-token", r"\bpypi-AgE[A-Za-z0-9_\-]{50,}", 0, ("pypi-age",), ()),
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", 0, ("sg.",), ()),
    # The payload need not start with eyJ, and an unsigned token ends with its second dot.
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}=*\.[A-Za-z0-9_\-]{8,}=*(?:\.[A-Za-z0-9_\-]*)?", 0, ("eyj",), ()),
    ("bearer-token", r"(?i)\bbearer\s+([A-Za-z0-9._~+/\-]{16,}=*)", 1, ("bearer",), ()),
    ("url-password", r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]+:([^/\s@]+)@", 1, ("://",), ("@",)),
    # The names detect-secrets' keyword plugin knows. "auth" but not "author" (author_id is an
    # id); "pwd" only as a suffix (DB_PWD, MYSQL_PWD), since PWD alone is the working folder.
    # A value an earlier rule redacted keeps that rule's kind.
    ("assigned-secret",
     r"(?i)\b[A-Z0-9_\-]*(?:password|passwd|passphrase|secret|token|"
     r"(?:api|access|private|priv|service|account|db|database|client)[_\-]?key|"
     r"(?:db|database|key)[_\-]?pass|[_\-]pwd|contrase(?:ñ|n)a|auth(?!or(?!i[sz])))"
     r"[A-Z0-9_\-]*\b[\"']?\s*(?::=|=>|[:=])\s*[\"']?(?!\[REDACTED:)([^\s\"',;]{8,})", 1,
     ("pass", "secret", "token", "key", "auth", "pwd", "contrase"), ("=", ":")),
]

_compiled: dict[int, re.Pattern[str]] = {}


def _rules(text: str) -> list[tuple[str, re.Pattern[str], int]]:
    """The rules that may match ``text``, compiled on first use."""
    lowered = text.lower()
    out: list[tuple[str, re.Pattern[str], int]] = []
    for i, (kind, pattern, group, markers, more) in enumerate(_PATTERNS):
        if not any(m in lowered for m in markers) or (more and not any(m in text for m in more)):
            continue
        rx = _compiled.get(i)
        if rx is None:
            import re

            rx = _compiled[i] = re.compile(pattern)
        out.append((kind, rx, group))
    return out


def redact_text(text: str) -> str:
    if not text:
        return text
    for kind, rx, group in _rules(text):
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
