"""A validation report as people and tools read it: text, JSON, Turtle, JUnit XML and GitHub
annotations.

The report is one model (``validation.ValidationReport``) whichever engine made it; how it is
written for a terminal, a CI system or another RDF tool changes for reasons of its own, so the
writers live here and ``validation`` knows nothing of formats.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from xml.sax.saxutils import escape, quoteattr

import rdflib
from rdflib.namespace import SH

from .validation import ValidationReport


def render(report: ValidationReport, fmt: str) -> str:
    """The report as ``text``, ``json``, ``turtle``, ``junit`` or ``github`` annotations."""
    return _RENDERERS[fmt](report)


RENDER_FORMATS: Sequence[str] = ("text", "json", "turtle", "junit", "github")


def _text(report: ValidationReport) -> str:
    lines = []
    for r in report.results:
        lines.append(f"{r.where}: {r.severity}: {r.message}")
        lines.append(f"    focus: {r.focus}")
        if r.path:
            lines.append(f"    path:  {r.path}")
        if r.value:
            lines.append(f"    value: {r.value}")
        lines.append(f"    shape: {r.shape}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def _json(report: ValidationReport) -> str:
    return (
        json.dumps(
            {
                "conforms": report.conforms,
                "counts": report.counts,
                "not_listed": report.omitted,
                "results": [asdict(r) for r in report.results],
            },
            indent=2,
        )
        + "\n"
    )


def _turtle(report: ValidationReport) -> str:
    graph = report.report_graph if report.report_graph is not None else rdflib.Graph()
    graph.bind("sh", SH)
    return graph.serialize(format="turtle")


def _junit(report: ValidationReport) -> str:
    c = Counter(r.severity for r in report.results)  # the listed ones: each is a test case
    failures = c["Violation"]
    warnings = sum(n for severity, n in c.items() if severity not in ("Violation", "Info"))
    cases = []
    for r in report.results:
        name = quoteattr(f"{r.where} {r.focus} {r.path or ''}".strip())
        body = escape(
            f"{r.message}\nfocus: {r.focus}\npath: {r.path}\nvalue: {r.value}\nshape: {r.shape}"
        )
        tag = "failure" if r.severity == "Violation" else "system-out"
        attrs = (
            f" message={quoteattr(r.message)} type={quoteattr(r.severity)}"
            if tag == "failure"
            else ""
        )
        cases.append(
            f'  <testcase classname="shacl.{r.severity}" name={name}>\n    <{tag}{attrs}>{body}</{tag}>\n  </testcase>'
        )
    if not report.results:
        if report.conforms:
            cases.append('  <testcase classname="shacl" name="data conforms to the shapes"/>')
        else:  # every result counted, none listed (max_results=0)
            failures = 1
            summary = quoteattr(report.summary())
            cases.append(
                f'  <testcase classname="shacl" name="data does not conform to the shapes">\n'
                f'    <failure message={summary} type="Violation"/>\n  </testcase>'
            )
    if report.omitted:  # after the test cases, where the JUnit schema puts it
        cases.append(f"  <system-out>{escape(report.summary())}</system-out>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="leapsld validate" tests="{max(len(report.results), 1)}" '
        f'failures="{failures}" errors="0" skipped="0" warnings="{warnings}">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n"
    )


def _github(report: ValidationReport) -> str:
    level = {"Violation": "error", "Warning": "warning", "Info": "notice"}
    lines = []
    for r in report.results:
        location = ",".join(
            part
            for part in (f"file={r.file}" if r.file else "", f"line={r.line}" if r.line else "")
            if part
        )
        message = f"{r.message} (focus {r.focus}" + (f", path {r.path}" if r.path else "") + ")"
        message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        head = (
            f"::{level.get(r.severity, 'notice')} "
            + (location + "," if location else "")
            + f"title=SHACL {r.severity}"
        )
        lines.append(f"{head}::{message}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


_RENDERERS = {"text": _text, "json": _json, "turtle": _turtle, "junit": _junit, "github": _github}
