"""The evasion corpus (tests/guard/corpus/*.jsonl): one test per case, and a check of every line.

The corpus was written by attackers before the guard was tuned for it, so a case
is only marked ``known_miss`` by whoever tunes the guard; such a case runs as a
strict xfail and fails loudly once the guard gets it right. The workspace and
the checking live in ``eval/corpus.py``, shared with ``python -m eval.evasion``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from eval.corpus import Case, CorpusWorkspace, load_cases, problems, read_lines


def _params() -> list[pytest.ParameterSet]:
    return [pytest.param(case, id=case.id,
                         marks=[pytest.mark.xfail(strict=True, reason=case.known_miss)]
                         if case.known_miss else [])
            for case in load_cases()]


@pytest.fixture(scope="module")
def corpus() -> Iterator[CorpusWorkspace]:
    with CorpusWorkspace.temporary() as workspace:
        yield workspace


@pytest.mark.parametrize("case", _params())
def test_case(corpus: CorpusWorkspace, case: Case) -> None:
    decision = corpus.check(case)
    what = case.command if case.kind == "command" else f"{case.tool} {json.dumps(case.input)}"
    lines = [f"{what!r} (cwd={case.cwd or '.'}, home_under_tmp={case.home_under_tmp})",
             f"expected {case.expect}, got {decision.verdict} "
             f"[{', '.join(decision.rules) or 'no rule'}]",
             *(f"  reason: {reason}" for reason in decision.reasons),
             f"  note: {case.note}"]
    assert case.passes(decision.verdict), "\n".join(lines)


def test_every_line_is_a_valid_case() -> None:
    lines = read_lines()
    assert lines, "the corpus is empty"
    bad: list[str] = []
    for cls, line, text in lines:
        try:
            obj = json.loads(text)
        except ValueError as exc:
            bad.append(f"{cls}.jsonl:{line}: not JSON ({exc})")
            continue
        bad += [f"{cls}.jsonl:{line}: {p}" for p in problems(obj)]
    assert not bad, "\n".join(bad)
