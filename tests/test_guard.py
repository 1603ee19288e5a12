"""The lexer in front of the parser: linear in the text, and it stops what would crash it."""

from __future__ import annotations

import contextlib
import time

import pytest

from leapsld.errors import QueryError, QueryRefused
from leapsld.guard import MAX_DEPTH, MAX_GROUPS, MAX_OPERATORS, check_read_only, shape

#: Texts pyoxigraph 0.5 crashes on (segmentation fault) in a thread with the default stack.
BOMBS = {
    "nested braces": "SELECT * WHERE " + "{" * 3_000 + " ?s ?p ?o " + "}" * 3_000,
    "nested parentheses": "SELECT * { ?s ?p ?o FILTER(" + "(" * 5_000 + "?o" + ")" * 5_000 + ") }",
    "nested OPTIONAL": "SELECT * { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 5_000 + "}" * 5_000 + "}",
    "nested sub-selects": "SELECT * {" + "{ SELECT * WHERE " * 2_000 + "{}" + "}" * 2_000 + "}",
    "flat OPTIONAL": "SELECT * { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o } " * 3_000 + "}",
    "a long sum": "SELECT (" + "+".join(["1"] * 10_000) + " AS ?x) {}",
    "nested CONCAT": "SELECT (" + "CONCAT(" * 1_000 + '"a"' + ', "a")' * 1_000 + " AS ?x) {}",
}


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_what_would_crash_the_parser_is_refused_with_its_place(text: str) -> None:
    with pytest.raises(QueryError, match=r"^line 1, column \d+: the query ") as caught:
        check_read_only(text)
    assert caught.value.line == 1 and caught.value.column is not None


def test_the_limits_are_exact() -> None:
    assert shape("SELECT * " + "{" * MAX_DEPTH + "}" * MAX_DEPTH).depth == MAX_DEPTH
    with pytest.raises(QueryError, match=f"more than {MAX_DEPTH} deep"):
        shape("SELECT * " + "{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1))
    ok = "SELECT (" + "+".join(["1"] * (MAX_OPERATORS + 1)) + " AS ?x) {}"
    assert shape(ok).operators == MAX_OPERATORS
    with pytest.raises(QueryError, match=f"more than {MAX_OPERATORS} operators"):
        shape(ok.replace("(1", "(1+1"))
    groups = "SELECT * { " + "FILTER(true) " * (MAX_GROUPS - 1) + "}"
    assert shape(groups).groups == MAX_GROUPS
    with pytest.raises(QueryError, match=f"more than {MAX_GROUPS} group patterns"):
        shape(groups.replace("{ ", "{ OPTIONAL {} "))


def test_brackets_in_strings_iris_and_comments_do_not_count() -> None:
    text = 'SELECT * { ?s ?p "{{{((([[[" . ?s <http://x/(> ?o } # ((((('
    assert shape(text).depth == 1
    long_string = "SELECT * { ?s ?p '''" + "{(\n" * 10_000 + "''' }"
    assert shape(long_string).depth == 1


def test_real_queries_pass() -> None:
    values = " ".join(f"<https://example.org/r/{n}>" for n in range(30_000))
    big = f"SELECT ?r WHERE {{ VALUES ?r {{ {values} }} ?r ?p ?o }}"
    assert len(big) > 500_000
    assert shape(big).depth == 2
    filters = " || ".join(f"?x = {n}" for n in range(1_000))
    assert shape(f"SELECT * {{ ?s ?p ?x FILTER({filters}) }}").operators == 2_000  # with SELECT's *


def test_an_unterminated_string_is_named() -> None:
    with pytest.raises(QueryError, match="line 2, column 13: a string is opened here"):
        shape('SELECT * {\n  ?s ?p ?o, "never closed }')


def test_keywords_and_refusals_read_past_codepoint_escapes() -> None:
    with pytest.raises(QueryRefused):
        check_read_only("\\u0044ROP ALL")
    with pytest.raises(QueryError, match="deep"):
        shape("SELECT * " + "\\u007B" * (MAX_DEPTH + 1))


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.process_time()  # CPU time: other processes on the machine do not count
        with contextlib.suppress(QueryError):
            shape(text)
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize(
    "unit",
    ["_", "a_", "'", '"""', "<a", "\\", "ex:a.", "?", "#\n", "'''a''", "1.", "<"],
)
def test_lexing_time_grows_linearly(unit: str) -> None:
    """A text four times as long takes about four times as long to lex (less than eight: a
    quadratic lexer would take sixteen). The old lexer took 31 s on 60,000 underscores,
    retrying a prefixed name at every one."""
    small, large = unit * (100_000 // len(unit)), unit * (400_000 // len(unit))
    assert _seconds(large) < 8 * _seconds(small) + 0.02
