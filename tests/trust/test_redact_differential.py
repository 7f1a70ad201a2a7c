"""Redaction held against detect-secrets.

A corpus of realistic secret-bearing texts is generated (seeded, so a failure names the same
text every run) and written to files of the formats they come from (``.env``, YAML, JSON,
Python, shell, INI, logs), which detect-secrets scans with its default plugins and filters.
Two checks for each text:

* differential: every secret detect-secrets finds in it is gone from ``redact_text`` of it;
* planted: the secret the generator put in is gone too, whether detect-secrets saw it or not
  (it has no plugin for Anthropic keys, and sees high-entropy strings only when quoted).

Left out of the differential check, by design:

* ``Public IP (ipv4)`` findings: a host address is not a credential, and redacting addresses
  would spoil the record of every network command;
* the benign corpus: detect-secrets' entropy plugins flag every quoted random-looking string,
  lockfile hashes and git SHAs included, where redaction keys on shapes and names so that
  ordinary hashes stay readable; those texts must come out of ``redact_text`` unchanged;
* keyword values under 8 characters (none in the corpus): detect-secrets reports
  ``password: hunter2``; redaction wants 8 characters so that ``password: str``,
  ``token: string;`` or ``secret=None`` stay readable in the record, at the price of short
  real passwords (``test_short_keyword_values_are_kept``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from detect_secrets.core.scan import scan_file
from detect_secrets.settings import default_settings

from tether.trust.redact import redact_text

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
IGNORED_TYPES = {"Public IP (ipv4)"}
ENTROPY_TYPES = {"Base64 High Entropy String", "Hex High Entropy String"}


@dataclass
class Item:
    kind: str
    fmt: str          # file extension the text is scanned as
    text: str
    secret: str       # what the generator planted


R = random.Random(20260105)


def rs(chars: str, n: int) -> str:
    return "".join(R.choice(chars) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- secrets -------------------------------------------------------------------------------

def aws_access_key_id() -> str:
    prefix = R.choice(["AKIA", "ASIA", "ABIA", "ACCA", "A3T" + R.choice(string.ascii_uppercase)])
    return prefix + rs(string.ascii_uppercase + string.digits, 16)


def aws_secret_key() -> str:
    return rs(ALNUM + "/+", 40)


def github_token() -> str:
    if R.random() < 0.3:
        return "github_pat_" + rs(ALNUM, 22) + "_" + rs(ALNUM, 59)
    return R.choice(["ghp", "gho", "ghu", "ghs", "ghr"]) + "_" + rs(ALNUM, 36)


def slack_token() -> str:
    kind = R.choice("bpaors")
    return f"xox{kind}-{rs(string.digits, 12)}-{rs(string.digits, 13)}-{rs(ALNUM, 24)}"


def slack_webhook() -> str:
    return (f"https://hooks.slack.com/services/T{rs(string.ascii_uppercase + string.digits, 8)}"
            f"/B{rs(string.ascii_uppercase + string.digits, 10)}/{rs(ALNUM, 24)}")


def stripe_key() -> str:
    return R.choice(["sk_live_", "rk_live_"]) + rs(ALNUM, R.choice([24, 34, 99]))


def jwt(signed: bool = True) -> str:
    header = {"alg": "HS256" if signed else "none", "typ": "JWT"}
    payload = {"sub": rs(string.digits, 10), "name": "Jane Doe", "iat": R.randint(10**9, 2 * 10**9)}
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = b64url(R.randbytes(32)) if signed else ""
    return f"{head}.{body}.{sig}"


def password() -> str:
    return rs(ALNUM, R.randint(10, 16)) + R.choice(["", "!", "*", "~", "-", "_", "."]) + rs(ALNUM, 2)


def npm_token() -> str:
    return "npm_" + rs(ALNUM, 36) if R.random() < 0.7 else str(uuid.UUID(bytes=R.randbytes(16)))


def openai_key() -> str:
    if R.random() < 0.5:
        return "sk-" + rs(ALNUM, 20) + "T3BlbkFJ" + rs(ALNUM, 20)
    return "sk-proj-" + rs(B64URL, 74) + "T3BlbkFJ" + rs(B64URL, 74)


def anthropic_key() -> str:
    return "sk-ant-api03-" + rs(B64URL, 93) + "AA"


def high_entropy() -> str:
    return R.choice([rs(ALNUM, 32), rs(B64, 40), rs(HEX, 64), rs(ALNUM + "-_", 43)])


def gitlab_token() -> str:
    return "glpat-" + rs(ALNUM + "_-", 20)


def pypi_token() -> str:
    return "pypi-AgEIcHlwaS5vcmc" + rs(B64URL, 140)


def sendgrid_key() -> str:
    return f"SG.{rs(B64URL, 22)}.{rs(B64URL, 43)}"


def azure_account_key() -> str:
    return base64.b64encode(R.randbytes(64)).decode()


def private_key_block(label: str) -> tuple[str, str]:
    body = "\n".join(rs(B64, 64) for _ in range(3))
    if label == "SSH2":
        return f"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n{body}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----", body
    if label == "PuTTY":
        return (f"PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: me\n"
                f"Private-Lines: 3\n{body}\nPrivate-MAC: {rs(HEX, 40)}"), body
    if label == "PGP":
        return f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}\n-----END PGP PRIVATE KEY BLOCK-----", body
    head = f"{label} PRIVATE KEY".strip()
    return f"-----BEGIN {head}-----\n{body}\n-----END {head}-----", body


# Names detect-secrets' keyword plugin knows, as code and configuration spell them.
SECRET_NAMES = [
    "API_KEY", "apiKey", "api-key", "auth_key", "SERVICE_KEY", "account_key", "db_key", "DATABASE_KEY",
    "priv_key", "private_key", "CLIENT_KEY", "DB_PASS", "database_password", "KEY_PASS", "password",
    "PASSWD", "db_pwd", "SECRET", "client_secret", "SECRET_KEY", "webhook_secret", "contrasena",
    "AUTH_TOKEN", "access_token", "ACCESS_KEY",
]


def assignments(name: str, value: str) -> list[tuple[str, str]]:
    return [
        ("env", f"{name.upper().replace('-', '_')}={value}"),
        ("env", f'{name.upper().replace("-", "_")}="{value}"'),
        ("sh", f"export {name.upper().replace('-', '_')}='{value}'"),
        ("py", f'{name} = "{value}"'),
        ("py", f'settings.{name.lower().replace("-", "_")} = "{value}"'),
        ("yaml", f"  {name.lower()}: {value}"),
        ("yaml", f'  {name.lower()}: "{value}"'),
        ("json", f'  "{name}": "{value}",'),
        ("go", f'\t{name.replace("-", "")} := "{value}"'),
        ("ini", f"{name.lower()} = {value}"),
        ("js", f"const {name.replace('-', '_')} = '{value}';"),
    ]


def _corpus() -> list[Item]:
    items: list[Item] = []

    def add(kind: str, make: Callable[[], str], templates: list[tuple[str, str]], n: int = 3) -> None:
        for fmt, template in templates:
            for _ in range(n):
                secret = make()
                items.append(Item(kind, fmt, template.format(s=secret), secret))

    add("aws-access-key", aws_access_key_id, [
        ("env", "AWS_ACCESS_KEY_ID={s}"), ("ini", "aws_access_key_id = {s}"),
        ("json", '  "AccessKeyId": "{s}",'), ("yaml", "    access_key: {s}"),
        ("log", "INFO using credentials {s} from the environment"),
    ])
    add("aws-secret-key", aws_secret_key, [
        ("ini", "aws_secret_access_key = {s}"), ("env", 'AWS_SECRET_ACCESS_KEY="{s}"'),
        ("py", 'aws_key = "{s}"'), ("py", "AWS_PASS = '{s}'"), ("json", '  "aws_token": "{s}",'),
    ])
    add("github-token", github_token, [
        ("env", "GITHUB_TOKEN={s}"), ("json", '{{"token": "{s}"}}'),
        ("sh", "git clone https://x-access-token:{s}@github.com/acme/app.git"),
        ("log", "curl -H 'Authorization: token {s}' https://api.github.com/user"),
        ("sh", "echo {s} | gh auth login --with-token"),
    ])
    add("slack-token", slack_token, [
        ("env", "SLACK_BOT_TOKEN={s}"), ("py", 'client = WebClient(token="{s}")'),
        ("log", "posting with {s} to #general"),
    ])
    add("slack-webhook", slack_webhook, [
        ("sh", "curl -X POST --data '{{\"text\": \"deployed\"}}' {s}"),
        ("yaml", "  webhook_url: {s}"), ("env", "SLACK_WEBHOOK={s}"),
    ])
    add("stripe-key", stripe_key, [
        ("env", "STRIPE_SECRET_KEY={s}"), ("py", 'stripe.api_key = "{s}"'),
        ("sh", "curl https://api.stripe.com/v1/charges -u {s}:"),
    ])
    add("jwt", jwt, [
        ("log", "GET /api/me Authorization: Bearer {s}"),
        ("sh", 'curl -H "Authorization: Bearer {s}" https://api.example.com/me'),
        ("json", '  "id_token": "{s}",'), ("log", "Set-Cookie: session={s}; Path=/; HttpOnly"),
        ("log", "GET /callback?state=xyz&code={s} 302"),
    ])
    add("jwt-unsigned", lambda: jwt(signed=False), [
        ("log", "token accepted: {s}"), ("json", '  "assertion": "{s}",'),
    ])
    add("url-password", password, [
        ("env", "DATABASE_URL=postgres://app:{s}@db.internal:5432/app"),
        ("sh", "git remote add origin https://deploy:{s}@git.example.com/acme/app.git"),
        ("yaml", "  url: mongodb+srv://admin:{s}@cluster0.example.net/test?retryWrites=true"),
        ("sh", "pip install --index-url https://ci:{s}@pypi.example.com/simple acme"),
        ("log", "connecting to amqp://guest:{s}@rabbit:5672/ failed"),
        ("env", "REDIS_URL=redis://default:{s}@cache:6379/0"),
    ])
    add("connection-string", password, [
        ("cs", 'var cs = "Server=tcp:db.example.net,1433;Database=app;User ID=admin;Password={s};Encrypt=true;";'),
        ("properties", "spring.datasource.url=jdbc:postgresql://db:5432/app?user=app&password={s}"),
        ("log", "psql 'host=db port=5432 dbname=app user=app password={s}'"),
        ("conf", "dsn = mysql://root:{s}@127.0.0.1:3306/app"),
    ])
    add("azure-storage-key", azure_account_key, [
        ("env", "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acme;"
                "AccountKey={s};EndpointSuffix=core.windows.net"),
    ])
    add("npm-token", npm_token, [
        ("npmrc", "//registry.npmjs.org/:_authToken={s}"),
        ("sh", "npm config set //registry.npmjs.org/:_authToken={s}"),
        ("env", "NPM_TOKEN={s}"),
    ])
    add("openai-key", openai_key, [
        ("env", "OPENAI_API_KEY={s}"), ("py", 'openai.api_key = "{s}"'),
        ("sh", 'curl https://api.openai.com/v1/models -H "Authorization: Bearer {s}"'),
        ("log", "client created with key {s}"),
    ])
    add("anthropic-key", anthropic_key, [
        ("env", "ANTHROPIC_API_KEY={s}"), ("sh", 'curl -H "x-api-key: {s}" https://api.anthropic.com/v1/messages'),
        ("json", '  "apiKey": "{s}",'),
    ])
    add("npm-token", lambda: "npm_" + rs(ALNUM, 36), [("log", "npm notice revoked {s}")])
    add("gitlab-token", gitlab_token, [
        ("env", "GITLAB_TOKEN={s}"), ("log", "PRIVATE-TOKEN: {s}"),
        ("sh", "git clone https://oauth2:{s}@gitlab.com/acme/app.git"), ("log", "using {s} for the API"),
    ])
    add("pypi-token", pypi_token, [("ini", "password = {s}"), ("sh", "twine upload -u __token__ -p {s} dist/*")])
    add("sendgrid-key", sendgrid_key, [("env", "SENDGRID_API_KEY={s}"), ("py", 'sg = SendGridAPIClient("{s}")')])
    for name in SECRET_NAMES:
        add("assigned-secret", high_entropy, assignments(name, "{s}"), n=1)
    for label in ["RSA", "EC", "DSA", "OPENSSH", "", "ENCRYPTED", "PGP", "SSH2", "PuTTY"]:
        block, body = private_key_block(label)
        items.append(Item("private-key", "pem", block, body))
        escaped = block.replace("\n", "\\n")
        items.append(Item("private-key", "json", f'  "private_key": "{escaped}\\n",', body.replace("\n", "\\n")))
    return items


def _benign() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for _ in range(4):
        sha = hashlib.sha1(R.randbytes(8)).hexdigest()
        sha256 = hashlib.sha256(R.randbytes(8)).hexdigest()
        uid = str(uuid.UUID(bytes=R.randbytes(16)))
        sentence = R.choice(["Hello, world!", "The quick brown fox jumps over the lazy dog.",
                             "user@example.com:read-only", "{\"kind\": \"ping\", \"n\": 1}"])
        b64 = base64.b64encode(sentence.encode()).decode()
        sri = base64.b64encode(hashlib.sha512(R.randbytes(8)).digest()).decode()
        out += [
            ("log", f"commit {sha}"),
            ("log", f"{sha[:7]} Fix the retry loop"),
            ("log", f"HEAD is now at {sha[:7]} Merge pull request #12 from acme/auth-fixes"),
            ("json", f'  "sha": "{sha}",'),
            ("sh", f"git checkout {sha}"),
            ("log", f"Author: Jane Doe <jane@example.com>  {sha}"),
            ("json", f'  "author_sha": "{sha}",'),
            ("yaml", f"  commit_sha: {sha}"),
            ("json", f'  "id": "{uid}",'),
            ("log", f"request_id={uid} status=200"),
            ("log", f"GET /api/v1/users/{uid} 200"),
            ("yaml", f"  session_id: {uid}"),
            ("json", f'  "author_id": "{uid}",'),
            ("py", f'idempotency_key = "{uid}"'),
            ("sh", f"echo {b64} | base64 -d"),
            ("json", f'  "data": "{b64}",'),
            ("json", f'  "integrity": "sha512-{sri}",'),
            ("yaml", f'  resolution: "acme@npm:1.2.3#{sha}"'),
            ("toml", f'checksum = "{sha256}"'),
            ("toml", f'{{file = "acme-1.0-py3-none-any.whl", hash = "sha256:{sha256}"}},'),
            ("txt", f"acme==1.0 --hash=sha256:{sha256}"),
            ("sum", f"golang.org/x/net v0.17.0 h1:{base64.b64encode(bytes.fromhex(sha256)).decode()}"),
            ("yaml", f'  integrity: sha1-{base64.b64encode(bytes.fromhex(sha)).decode()}'),
            ("env", "PWD=/home/jane/projects/acme-api"),
            ("env", "OLDPWD=/home/jane/projects"),
            ("json", '  "authority": "https://login.microsoftonline.com/common",'),
            ("yaml", f"  author_email: jane.doe@example.com  # {sha[:12]}"),
        ]
    return out


CORPUS = _corpus()
BENIGN = _benign()


def _scan(tmp: Path, texts: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """detect-secrets' findings (type, value) for each text, each scanned as its format."""
    found: list[list[tuple[str, str]]] = [[] for _ in texts]
    by_fmt: dict[str, list[int]] = {}
    for i, (fmt, _) in enumerate(texts):
        by_fmt.setdefault(fmt, []).append(i)
    with default_settings():
        for fmt, indexes in by_fmt.items():
            path = tmp / f"corpus.{fmt}"
            line_of: list[int] = []
            lines: list[str] = []
            for i in indexes:
                for line in texts[i][1].split("\n"):
                    lines.append(line)
                    line_of.append(i)
            path.write_text("\n".join(lines) + "\n")
            for secret in scan_file(str(path)):
                if secret.type in IGNORED_TYPES or secret.secret_value is None:
                    continue
                found[line_of[secret.line_number - 1]].append((secret.type, secret.secret_value))
    return found


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[list[tuple[str, str]]]:
    return _scan(tmp_path_factory.mktemp("corpus"), [(i.fmt, i.text) for i in CORPUS])


def test_every_secret_detect_secrets_finds_is_redacted(findings: list[list[tuple[str, str]]]) -> None:
    leaks = []
    for item, found in zip(CORPUS, findings, strict=True):
        redacted = redact_text(item.text)
        for kind, value in found:
            if value in redacted:
                leaks.append(f"{item.kind} [{kind}] {value!r} in {item.text!r} -> {redacted!r}")
    assert not leaks, "\n".join(leaks)


def test_every_planted_secret_is_redacted() -> None:
    leaks = [f"{i.kind}: {i.text!r} -> {redact_text(i.text)!r}"
             for i in CORPUS if i.secret in redact_text(i.text)]
    assert not leaks, "\n".join(leaks)


def test_detect_secrets_sees_most_of_the_corpus(findings: list[list[tuple[str, str]]]) -> None:
    # Guards the differential test against a detect-secrets that silently finds nothing.
    seen = sum(1 for f in findings if any(kind not in ENTROPY_TYPES for kind, _ in f))
    assert seen > len(CORPUS) * 0.6, (seen, len(CORPUS))


def test_benign_lookalikes_are_left_alone() -> None:
    changed = [f"{text!r} -> {redact_text(text)!r}" for _, text in BENIGN if redact_text(text) != text]
    assert not changed, "\n".join(changed)


def test_detect_secrets_flags_some_lookalikes(tmp_path: Path) -> None:
    """Why the benign corpus is not part of the differential check."""
    flagged = [f for f in _scan(tmp_path, BENIGN) if any(k in ENTROPY_TYPES for k, _ in f)]
    assert flagged


def test_short_keyword_values_are_kept(tmp_path: Path) -> None:
    # detect-secrets reports a 7-character password; redaction leaves it, the price of keeping
    # type names and placeholders readable in the record.
    assert _scan(tmp_path, [("yaml", "password: hunter2")]) == [[("Secret Keyword", "hunter2")]]
    for text in ["password: hunter2", "password: str", "token: string;", "secret=None", "api_key: null"]:
        assert redact_text(text) == text


# Each gap the differential check found, as a fixed example.
@pytest.mark.parametrize(("text", "secret"), [
    ("key id ABIAE0N4UA3ZHSNUU8KB", "ABIAE0N4UA3ZHSNUU8KB"),
    ("key id ACCAE0N4UA3ZHSNUU8KB", "ACCAE0N4UA3ZHSNUU8KB"),
    ("key id A3TTE0N4UA3ZHSNUU8KB", "A3TTE0N4UA3ZHSNUU8KB"),
    ('aws_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("curl -d '{}' https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBBBB/CCCCCCCCCCCCCCCCCCCCCCCC",
     "CCCCCCCCCCCCCCCCCCCCCCCC"),
    ("token eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.",
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0AAAAB\n-----END PGP PRIVATE KEY BLOCK-----",
     "lQOYBF0AAAAB"),
    ("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAi4AAAA3\n---- END SSH2 ENCRYPTED PRIVATE KEY ----",
     "P2/56wAAAi4AAAA3"),
    ("PuTTY-User-Key-File-2: ssh-rsa\nPrivate-Lines: 1\nAAABAQCz\nPrivate-MAC: 0123abcd", "AAABAQCz"),
    ("twine upload -p pypi-AgEIcHlwaS5vcmc" + "x" * 60, "pypi-AgEIcHlwaS5vcmc" + "x" * 60),
    ('SendGridAPIClient("SG.' + "a" * 22 + "." + "b" * 43 + '")', "b" * 43),
    ("AccountName=acme;AccountKey=" + "A" * 86 + "==;EndpointSuffix=core.windows.net", "A" * 86),
    ('\tapiKey := "NECM5Ko+wmKOnQpPQVPWh1dSDJ2BwJOiuu"', "NECM5Ko+wmKOnQpPQVPWh1dSDJ2BwJOiuu"),
    ("SERVICE_KEY=64884f937902dad703335ffb571f", "64884f937902dad703335ffb571f"),
    ("DB_PASS=txYcYCQ8hss7S-DbgLRg", "txYcYCQ8hss7S-DbgLRg"),
    ("export MYSQL_PWD='c0789983990d3ad9'", "c0789983990d3ad9"),
    ("contraseña: Xj74amOsTGVV6KYW", "Xj74amOsTGVV6KYW"),
    ("npm notice revoked npm_" + "a1B2" * 9, "npm_" + "a1B2" * 9),
])
def test_found_gaps_stay_closed(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_a_redacted_value_keeps_its_kind() -> None:
    assert redact_text("GITHUB_TOKEN=ghp_" + "a" * 36) == "GITHUB_TOKEN=[REDACTED:github-token]"


@pytest.mark.parametrize("text", ['"author_id": "d351fc66-c285-4d70-9620-96f68c773a98"', "PWD=/home/jane/app"])
def test_found_false_positives_stay_away(text: str) -> None:
    assert redact_text(text) == text


def test_markers_never_hide_a_match() -> None:
    """Rules are compiled and run only when a text holds one of their markers; with every rule
    run on every text, the corpus comes out the same."""
    import re

    from tether.trust import redact as module

    def every_rule(text: str) -> str:
        for kind, pattern, group, _, _ in module._PATTERNS:
            rx = re.compile(pattern)
            if group == 0:
                text = rx.sub(f"[REDACTED:{kind}]", text)
            else:
                text = rx.sub(lambda m, k=kind, g=group: m.group(0)[:m.start(g) - m.start()]
                              + f"[REDACTED:{k}]" + m.group(0)[m.end(g) - m.start():], text)
        return text

    for text in [i.text for i in CORPUS] + [t for _, t in BENIGN]:
        assert redact_text(text) == every_rule(text), text
