"""Hostile MISP / STIX input (issue 11, O1, O4): linear parsing and size budgets, every refusal a 422.

The ReDoS case runs in a child process: on the old backtracking regex it never returns and holds
the GIL, so only a process boundary with a timeout can report the failure instead of hanging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import banso
from banso.information import interop
from banso.information.interop import InterchangeError, parse_misp, parse_stix

SRC = str(Path(banso.__file__).parent.parent)
# The budgets as documented (literals, so that the cases below also build against older code).
PATTERN_CHARS, PATTERN_COMPARISONS, OBJECTS, DEPTH, DOC_BYTES = 4_096, 256, 10_000, 32, 5 * 1024 * 1024


def test_budgets_are_the_documented_ones() -> None:
    assert (interop.MAX_PATTERN_CHARS, interop.MAX_PATTERN_COMPARISONS, interop.MAX_OBJECTS, interop.MAX_DEPTH,
            interop.MAX_DOCUMENT_BYTES) == (PATTERN_CHARS, PATTERN_COMPARISONS, OBJECTS, DEPTH, DOC_BYTES)
    assert (interop.MAX_PATTERN_TOTAL_CHARS, interop.MAX_COMPARISONS) == (65_536, 2_048)


def bundle_with_patterns(*patterns: str, **extra: Any) -> dict[str, Any]:
    """A STIX 2.1 bundle with one indicator per pattern."""
    objects = []
    for i, pattern in enumerate(patterns):
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--0f6a1c0e-51b4-4c7a-9d52-{i:012d}",
            "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z", "name": f"rule {i}",
            "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-03-01T00:00:00Z", **extra,
        })
    return {"type": "bundle", "id": "bundle--0f6a1c0e-51b4-4c7a-9d52-6f1c8e3b2a10", "objects": objects}


def redos_pattern(length: int) -> str:
    """The shape that froze the server: a MATCHES regex holding ``word:`` and a long run of path characters.

    The old comparison regex read ``report:`` as an object type and the run as a path of nested
    repetitions, then backtracked through every split of the run (2^length) looking for an ``=``.
    """
    return f"[file:name MATCHES '^report:{'Final_Report_Q3-' * (length // 16)}\\\\.exe$']"


def test_redos_matches_pattern_is_parsed_quickly_in_a_child_process() -> None:
    bundle = bundle_with_patterns(redos_pattern(4000))
    assert len(bundle["objects"][0]["pattern"]) <= PATTERN_CHARS
    script = textwrap.dedent("""
        import json, sys, time
        from banso.information.interop import parse_stix
        doc = sys.stdin.read()
        start = time.perf_counter()
        result = parse_stix(doc)
        print(json.dumps({"seconds": time.perf_counter() - start,
                          "types": [i.type for i in result.indicators]}))
    """)
    env = {**os.environ, "PYTHONPATH": SRC}
    try:
        done = subprocess.run([sys.executable, "-c", script], input=json.dumps(bundle), capture_output=True,
                              text=True, timeout=60, env=env, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("a 4,000-character MATCHES pattern held the parser for more than 60 s (ReDoS)")
    answer = json.loads(done.stdout)
    assert answer["seconds"] < 1.0, answer  # linear: measured about 0.03 s
    assert answer["types"] == ["stix2-pattern"]  # kept whole: MISP has no type for a MATCHES rule


BUDGET_CASES = [
    (bundle_with_patterns("[file:name = '" + "x" * PATTERN_CHARS + "']"),
     f"at most {PATTERN_CHARS}"),
    (bundle_with_patterns(*["[file:name = '" + "y" * 4000 + "']"] * 17), "characters of patterns; at most 65536"),
    (bundle_with_patterns("[" + " AND ".join(f"a:b = {i % 10}" for i in range(300)) + "]"),
     f"300 comparisons; at most {PATTERN_COMPARISONS}"),
    (bundle_with_patterns("[file:name MATCHES '^x' AND"), "invalid STIX 2.1 pattern"),
    (bundle_with_patterns("file:name = 'x'"), "invalid STIX 2.1 pattern"),
    ({"type": "bundle", "id": "bundle--0f6a1c0e-51b4-4c7a-9d52-6f1c8e3b2a10",
      "objects": [{}] * (OBJECTS + 1)}, f"at most {OBJECTS} are accepted"),
]


@pytest.mark.parametrize(("doc", "message"), BUDGET_CASES)
def test_stix_budgets_refuse_with_a_clear_422(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InterchangeError) as caught:
        parse_stix(doc)
    assert message in caught.value.message
    assert caught.value.status_code == 422


def test_too_many_comparisons_in_one_bundle_are_refused() -> None:
    pattern = "[" + " AND ".join(f"a:b = {i % 10}" for i in range(200)) + "]"
    doc = bundle_with_patterns(*[pattern] * 21)  # 4,200 comparisons in 21 patterns within the other budgets
    with pytest.raises(InterchangeError, match="more than 2048 indicator comparisons"):
        parse_stix(doc)


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x_nest": value}
    return value


def test_deep_nesting_is_refused_as_parsed_json_and_as_bytes() -> None:
    doc = bundle_with_patterns("[file:name = 'a']", x_custom=nested(DEPTH + 5))
    with pytest.raises(InterchangeError, match="nested too deeply"):
        parse_stix(doc)
    with pytest.raises(InterchangeError, match="nested too deeply"):
        parse_stix(json.dumps(doc).encode())
    shallow = bundle_with_patterns("[file:name = 'a']", x_custom=nested(10))
    assert parse_stix(shallow).indicators[0].value == "a"


def test_oversized_documents_are_refused_before_json_parsing() -> None:
    big = b'{"Event": {"info": "' + b"x" * DOC_BYTES + b'"}}'
    with pytest.raises(InterchangeError, match="larger than 5 MiB"):
        parse_misp(big)
    with pytest.raises(InterchangeError, match="larger than 5 MiB"):
        interop.parse_document(big.decode())


def test_misp_attribute_budget() -> None:
    event = {"Event": {"uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f", "info": "flood",
                       "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"}] * OBJECTS,
                       "Object": [{"Attribute": [{"type": "md5", "value": "a" * 32}]}]}}
    with pytest.raises(InterchangeError, match=f"at most {OBJECTS} are accepted"):
        parse_misp(event)


def test_grammar_reads_values_and_keeps_what_misp_cannot_type() -> None:
    mixed = "[url:value MATCHES '^https://a\\\\.example/' AND url:value = 'https://a.example/x']"
    result = parse_stix(bundle_with_patterns(
        "[url:value = 'https://a.example/it\\'s' AND network-traffic:dst_port = 8443]",
        "[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = '192.0.2.7']", mixed))
    assert {(i.type, i.value) for i in result.indicators} == {
        ("url", "https://a.example/it's"), ("port", "8443"), ("domain", "a.example"), ("ip-dst", "192.0.2.7"),
        ("url", "https://a.example/x"),
        ("stix2-pattern", mixed),  # the MATCHES half is not dropped: the whole pattern is kept
    }
