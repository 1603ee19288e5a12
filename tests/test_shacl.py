"""The compiled SHACL engine (shapes as SPARQL on the store) gives pyshacl's results.

pyshacl is the reference: every case here is validated by both engines through
``validate_dataset`` and must give the same results, (severity, focus, path, value, source shape,
constraint component, and the message when the shape writes one), and as many as the test says.
Default messages are each engine's own wording and are not compared.

Where pyshacl departs from the SHACL specification the compiled engine follows the
specification; those cases are spelled out, with both engines' counts, at the end.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from rdflib.namespace import SH

from leapsld.bridge import graph_from_quads
from leapsld.dataset import Dataset
from leapsld.errors import EvaluationError
from leapsld.pipeline import build, validate_dataset
from leapsld.settings import Settings
from leapsld.shacl import Unsupported, running
from leapsld.validation import ValidationReport, ValidationResult

from .conftest import ROOT

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/> .
"""

Key = tuple[str, str, str | None, str | None, str | None, str | None, str | None]


def dataset(tmp_path: Path, shapes: str, data: str) -> Dataset:
    (tmp_path / "shapes.ttl").write_text(PREFIXES + shapes)
    (tmp_path / "data.ttl").write_text(PREFIXES + data)
    settings = Settings.from_env(
        {}, root=tmp_path, data=(tmp_path / "data.ttl",), shapes=(tmp_path / "shapes.ttl",)
    )
    return build(settings, validate_data=False)


def written_messages(d: Dataset) -> set[tuple[str, bool]]:
    """(shape, only for its SPARQL constraints) for each shape, as results show it, that writes
    its own sh:message (on itself, or on a SPARQL constraint)."""
    g = graph_from_quads(d.shapes_store)

    def show(s: rdflib.term.Node) -> str:
        return f"<{s}>" if isinstance(s, rdflib.URIRef) else f"_:{s}"

    explicit = {(show(s), False) for s in g.subjects(SH.message, None)}
    sparql = {s for s, c in g.subject_objects(SH.sparql) if (c, SH.message, None) in g}
    return explicit | {(show(s), True) for s in sparql}


def key(r: ValidationResult, explicit: set[tuple[str, bool]]) -> Key:
    sparql = (r.constraint or "").endswith("#SPARQLConstraintComponent>")
    written = (r.shape, False) in explicit or (sparql and (r.shape, True) in explicit)
    message = r.message if written else None
    return (r.severity, r.focus, r.path, r.value, r.shape, r.constraint, message)


def results(d: Dataset, engine: str) -> tuple[ValidationReport, list[Key]]:
    report = validate_dataset(d, fail_on="Info", engine=engine)
    explicit = written_messages(d)
    return report, sorted((key(r, explicit) for r in report.results), key=repr)


def in_store_form(k: Key) -> Key:
    """A result with its value as the store holds it: what the compiled engine, querying the
    store, names (pyshacl, reading data the store rewrote as written, names the file's form);
    blank values by their kind only (the two read the file's blank nodes apart)."""
    value = k[3]
    if value is not None and value.startswith("_:"):
        value = "_:"
    elif value is not None and value.startswith('"'):
        s = pyoxigraph.Store()
        s.load(f"<urn:s> <urn:p> {value} .".encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
        value = str(next(iter(s)).object)
    return (k[0], k[1], k[2], value, *k[4:])  # type: ignore[return-value]


def same_results(d: Dataset) -> list[Key]:
    """Both engines' results, asserted equal; the compiled engine must not fall back."""
    compiled, ours = results(d, "sparql")
    reference, theirs = results(d, "pyshacl")
    assert compiled.engine == "sparql" and reference.engine == "pyshacl"
    if any(f.rewritten for f in d.data_files):
        ours = sorted(map(in_store_form, ours), key=repr)
        theirs = sorted(map(in_store_form, theirs), key=repr)
    assert ours == theirs, "\n".join(
        [f"sparql only:  {k}" for k in ours if k not in theirs]
        + [f"pyshacl only: {k}" for k in theirs if k not in ours]
    )
    return ours


# The project's own shapes and data -----------------------------------------------------------

CASES_DIR = ROOT / "tests" / "shapes_cases"
MANIFEST = tomllib.loads((CASES_DIR / "cases.toml").read_text())
CASES = sorted(MANIFEST)


@pytest.mark.parametrize("name", [None, *CASES])
def test_both_engines_agree_on_the_project_data(name: str | None) -> None:
    extra = (CASES_DIR / f"{name}.ttl",) if name else ()
    settings = Settings.from_env({}, root=ROOT, data=(ROOT / "ontology", ROOT / "data", *extra))
    d = build(settings, validate_data=False)
    compiled = validate_dataset(d, fail_on="Info", engine="sparql")
    reference = validate_dataset(d, fail_on="Info", engine="pyshacl")

    def full(r: ValidationResult) -> tuple[object, ...]:
        return (*key(r, {(r.shape or "", False)}), r.file, r.line)  # every message is written

    assert sorted(map(full, compiled.results), key=repr) == sorted(
        map(full, reference.results), key=repr
    )
    # a broken case gives its one result; a kept case (``conforms``), like the data, none
    assert len(compiled.results) == (1 if name and not MANIFEST[name].get("conforms") else 0)


# One case per construct the compiler claims ---------------------------------------------------

MATRIX = [
    # Value type ---------------------------------------------------------------------------
    pytest.param(
        "ex:S a sh:NodeShape ; sh:targetNode ex:a, ex:b, ex:c, ex:d, ex:e ; sh:class ex:C .",
        """ex:D rdfs:subClassOf ex:C . _:k rdfs:subClassOf ex:D .
        ex:a a ex:C . ex:b a ex:D . ex:c a ex:Other . ex:d a _:k .""",
        2,  # ex:c (another class), ex:e (no type)
        id="class-node-with-subclass-and-blank-subclass",
    ),
    pytest.param(
        "ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:class ex:C ] .",
        """ex:C a rdfs:Class . ex:x ex:p ex:a, ex:b, "a literal", [ a ex:C ] .
        ex:a a ex:C . ex:b a ex:C, ex:Other .""",
        1,
        id="class-property-literal-and-blank-values",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:datatype xsd:integer ] .
        ex:T sh:targetSubjectsOf ex:q ; sh:property [ sh:path ex:q ; sh:datatype xsd:string ] .
        ex:U sh:targetSubjectsOf ex:r ; sh:property [ sh:path ex:r ; sh:datatype xsd:date ] .""",
        """ex:x ex:p 1, "02"^^xsd:integer, "abc"^^xsd:integer, "1.5"^^xsd:decimal, "1", ex:iri,
            "99999999999999999999999"^^xsd:integer .
        ex:y ex:q "s", "t"^^xsd:string, "u"@en, 3 .
        ex:z ex:r "2020-01-31"^^xsd:date, "2020-02-31"^^xsd:date, "2020-01-01T10:00:00"^^xsd:dateTime .""",
        8,  # abc, 1.5, "1", ex:iri; "u"@en, 3; 2020-02-31, the dateTime
        id="datatype-with-ill-formed-literals",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:datatype xsd:boolean ] .
        ex:T sh:targetSubjectsOf ex:q ; sh:property [ sh:path ex:q ; sh:datatype xsd:double ] .
        ex:U sh:targetSubjectsOf ex:r ; sh:property [ sh:path ex:r ; sh:datatype xsd:hexBinary ] .""",
        """ex:x ex:p true, "0"^^xsd:boolean, "yes"^^xsd:boolean, "TRUE"^^xsd:boolean .
        ex:y ex:q 1.5e3, "INF"^^xsd:double, "NaN"^^xsd:double, "1,5"^^xsd:double, 2.5 .
        ex:z ex:r "0FB7"^^xsd:hexBinary, "0FB"^^xsd:hexBinary, "zz"^^xsd:hexBinary .""",
        6,  # yes, TRUE; "1,5", 2.5 (a decimal); 0FB, zz
        id="datatype-boolean-double-hexBinary",
    ),
    pytest.param(
        "ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:datatype rdf:langString ] .",
        'ex:x ex:p "a"@en, "b"@en-GB, "c", "d"^^xsd:string, ex:iri, 4 .',
        4,
        id="datatype-langString",
    ),
    pytest.param(
        """ex:x ex:p ex:iri, _:blank, "literal" .
        ex:IRI sh:targetNode ex:x ; sh:property [ sh:path ex:p ; sh:nodeKind sh:IRI ] .
        ex:BlankNode sh:targetNode ex:x ; sh:property [ sh:path ex:p ; sh:nodeKind sh:BlankNode ] .
        ex:Literal sh:targetNode ex:x ; sh:property [ sh:path ex:p ; sh:nodeKind sh:Literal ] .
        ex:BlankNodeOrIRI sh:targetNode ex:x ;
            sh:property [ sh:path ex:p ; sh:nodeKind sh:BlankNodeOrIRI ] .
        ex:BlankNodeOrLiteral sh:targetNode ex:x ;
            sh:property [ sh:path ex:p ; sh:nodeKind sh:BlankNodeOrLiteral ] .
        ex:IRIOrLiteral sh:targetNode ex:x ;
            sh:property [ sh:path ex:p ; sh:nodeKind sh:IRIOrLiteral ] .""",
        'ex:x ex:p ex:iri, [ ex:q 1 ], "literal" .',
        9,  # 2 + 2 + 2 + 1 + 1 + 1
        id="nodeKind-all-six",
    ),
    pytest.param(
        "ex:S a sh:NodeShape ; sh:targetNode ex:a, 1, ex:absent ; sh:nodeKind sh:IRI .",
        "ex:a ex:p 1 .",
        1,  # the literal focus node
        id="nodeKind-of-focus-nodes",
    ),
    # Cardinality ----------------------------------------------------------------------------
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:any ;
            sh:property [ sh:path ex:p ; sh:minCount 0 ] ;
            sh:property [ sh:path ex:p ; sh:minCount 1 ] ;
            sh:property [ sh:path ex:p ; sh:minCount 2 ] ;
            sh:property [ sh:path ex:p ; sh:maxCount 0 ] ;
            sh:property [ sh:path ex:p ; sh:maxCount 1 ] ;
            sh:property [ sh:path ex:p ; sh:maxCount 2 ] .""",
        """ex:none ex:any 0 .
        ex:one ex:any 0 ; ex:p 1 .
        ex:two ex:any 0 ; ex:p 1, "1" .
        ex:three ex:any 0 ; ex:p 1, 2, ex:three .""",
        9,  # none: min 1, 2; one: min 2, max 0; two: max 0, 1; three: max 0, 1, 2
        id="minCount-maxCount-0-1-2",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 4 ; sh:maxCount 3 ] .""",
        "ex:a ex:p 1, 2, 3, 1.0, 1e0 .",
        1,  # five distinct terms (1, 1.0 and 1e0 are not the same term)
        id="counts-are-of-distinct-terms",
    ),
    # Value range ----------------------------------------------------------------------------
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:minInclusive 3 ] ;
            sh:property [ sh:path ex:p ; sh:maxExclusive 6.5 ] .""",
        """ex:x ex:p 1, 3, 5, 6.5, 7e0, "5", "abc"^^xsd:integer, ex:iri, [ ex:q 1 ], "4"@en,
            "2020"^^xsd:gYear, "P1D"^^xsd:duration .""",
        17,  # min: 1 and the 7 incomparable values; max: 6.5, 7e0 and the same 7
        id="minInclusive-maxExclusive-with-incomparable-values",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:minExclusive "2020-01-01"^^xsd:date ] ;
            sh:property [ sh:path ex:p ; sh:maxInclusive "2020-12-31"^^xsd:date ] .""",
        """ex:x ex:p "2019-12-31"^^xsd:date, "2020-01-01"^^xsd:date, "2020-06-01"^^xsd:date,
            "2020-12-31"^^xsd:date, "2021-01-01"^^xsd:date, "2020-06-01" .""",
        5,  # 2019-12-31, 2020-01-01, 2021-01-01, and the string twice
        id="minExclusive-maxInclusive-dates",
    ),
    # String-based ---------------------------------------------------------------------------
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:minLength 3 ] ;
            sh:property [ sh:path ex:p ; sh:maxLength 5 ] .""",
        """ex:x ex:p "ab", "abc", "abcdef", "ééé"@fr, 12345, 123456, ex:i, <http://example.org/long>,
            [ ex:q 1 ] .""",
        7,  # ab; abcdef; 123456; the two IRIs are long; the blank node fails both
        id="minLength-maxLength-with-iris-and-blank-nodes",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:pattern "^ab+c$" ] .
        ex:T sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:pattern "^AB+C$" ; sh:flags "i" ] .""",
        """ex:x ex:p "abc", "abbbc", "ABC", "xabc", 1, <http://example.org/abc>, [ ex:q 1 ],
            "ab\\nc" .""",
        11,  # ABC (case), xabc, 1, the IRI, the blank node, "ab\nc"; less ABC with "i"
        id="pattern-with-flags",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:pattern "^line$" ; sh:flags "m" ] .""",
        'ex:x ex:p "first\\nline", "line\\nlast", "no" .',
        1,
        id="pattern-multiline",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:languageIn ( "en" "fr" ) ] .""",
        'ex:x ex:p "a"@en, "b"@en-GB, "c"@fr, "d"@de, "e", ex:iri, 1 .',
        4,
        id="languageIn",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:uniqueLang true ] .
        ex:T sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:uniqueLang false ] .""",
        """ex:x ex:p "a"@en, "b"@en, "c"@en, "d"@fr, "e"@FR, "f", "g", ex:iri .
        ex:y ex:p "a"@en, "a"@fr .""",
        2,  # ex:x: en, fr (one result each)
        id="uniqueLang",
    ),
    # Other constraints ----------------------------------------------------------------------
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:in ( ex:a "b" 3 "c"@en ) ] .""",
        'ex:x ex:p ex:a, "b", 3, "c"@en, ex:z, "a", "3", 3.0, "c" .',
        5,
        id="in",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a, ex:b, "v" ; sh:hasValue ex:a .
        ex:T sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:hasValue "v" ] .""",
        'ex:x ex:p "v", "w" . ex:y ex:p "w" . ex:z ex:p ex:a .',
        4,
        id="hasValue-on-node-and-property-shapes",
    ),
    pytest.param(
        """ex:ClosedShape a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true ;
            sh:ignoredProperties ( rdf:type ) ;
            sh:property [ sh:path ex:p ] ; sh:property [ sh:path ex:q ; sh:minCount 0 ] .
        ex:Open a sh:NodeShape ; sh:targetClass ex:C ; sh:closed false .""",
        """ex:a a ex:C ; ex:p 1 ; ex:q 2 .
        ex:b a ex:C ; ex:p 1 ; ex:r 3, 4 ; ex:s ex:a .
        ex:c a ex:C, rdfs:Resource .""",
        3,
        id="closed-with-ignoredProperties",
    ),
    pytest.param(
        """ex:Strict a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true ;
            sh:property [ sh:path ex:p ] .""",
        "ex:a a ex:C ; ex:p 1 . ex:b a ex:C, rdfs:Resource .",
        2,  # rdf:type is not ignored (rdf:type rdfs:Resource is, as pyshacl does)
        id="closed-without-ignoring-rdf-type",
    ),
    # Shape-based and logical ----------------------------------------------------------------
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:node ex:Named ] .
        ex:Named sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ] .""",
        """ex:x ex:p ex:a, ex:b, ex:c, "lit", [ ex:name "blank" ], [ ex:other 1 ] .
        ex:a ex:name "A" . ex:b ex:name 2 .""",
        4,  # ex:b, ex:c, "lit", the blank node without a name
        id="node",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:node ex:Named ;
            sh:message "needs a named thing" ] .
        ex:Named sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "no name" ] ;
            sh:property [ sh:path ex:name ; sh:datatype xsd:string ; sh:message "not a string" ] .""",
        'ex:x ex:p ex:a, [ ex:q 1 ], [ ex:name 2 ], [ ex:name "ok" ] . ex:y ex:p ex:a .',
        4,  # the messages say why, from the results of each value (named or blank) for ex:Named
        id="node-results-explained-for-named-and-blank-values",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ;
            sh:not [ sh:property [ sh:path ex:p ; sh:minCount 2 ] ] .
        ex:T sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:not [ sh:datatype xsd:integer ] ] .""",
        "ex:x ex:p 1, 2 . ex:y ex:p 1 . ex:z ex:p ex:a .",
        4,
        id="not",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;
            sh:and ( [ sh:datatype xsd:integer ] [ sh:minInclusive 0 ] [ sh:maxInclusive 9 ] ) ] .""",
        'ex:x ex:p 0, 5, 10, -1, "5", 5.0 .',
        4,
        id="and",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;
            sh:or ( [ sh:datatype xsd:string ] [ sh:datatype rdf:langString ] [ sh:class ex:C ] ) ] .""",
        'ex:x ex:p "a", "b"@en, ex:c, ex:d, 1 . ex:c a ex:C .',
        2,
        id="or",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:any ;
            sh:xone ( [ sh:property [ sh:path ex:a ; sh:minCount 1 ] ]
                      [ sh:property [ sh:path ex:b ; sh:minCount 1 ] ] ) .""",
        "ex:n ex:any 0 . ex:a1 ex:any 0 ; ex:a 1 . ex:b1 ex:any 0 ; ex:b 1 . ex:ab ex:any 0 ; ex:a 1 ; ex:b 1 .",
        2,
        id="xone",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;
            sh:qualifiedValueShape [ sh:class ex:C ] ; sh:qualifiedMinCount 2 ;
            sh:qualifiedMaxCount 3 ] .""",
        """ex:one ex:p ex:c1, ex:d1 . ex:two ex:p ex:c1, ex:c2, ex:d1 .
        ex:four ex:p ex:c1, ex:c2, ex:c3, ex:c4 .
        ex:c1 a ex:C . ex:c2 a ex:C . ex:c3 a ex:C . ex:c4 a ex:C .""",
        2,
        id="qualifiedValueShape-min-max",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;
            sh:qualifiedValueShape [ sh:datatype xsd:integer ] ; sh:qualifiedMinCount 0 ;
            sh:qualifiedMaxCount 0 ] .""",
        'ex:x ex:p "a" . ex:y ex:p "a", 1 .',
        1,
        id="qualifiedValueShape-zero",
    ),
    # SPARQL-based constraints ---------------------------------------------------------------
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetClass ex:Interval ;
            sh:sparql [ a sh:SPARQLConstraint ;
                sh:message "{$this} ends ({?end}) before it begins ({?begin}); {?unbound} stays" ;
                sh:prefixes ex:prefixes ;
                sh:select \"\"\"SELECT $this ?value ?begin ?end WHERE {
                    $this ex:begin ?begin ; ex:end ?value . BIND(?value AS ?end)
                    FILTER (?end < ?begin) }\"\"\" ] .
        ex:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .""",
        """ex:ok a ex:Interval ; ex:begin 1 ; ex:end 2 .
        ex:bad a ex:Interval ; ex:begin 5 ; ex:end 2, 3, 7 .
        ex:other ex:begin 5 ; ex:end 2 .""",
        2,
        id="sparql-with-message-templates",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:message "needs a label" ;
            sh:sparql [ sh:select \"\"\"
                SELECT $this WHERE { FILTER NOT EXISTS { $this <http://www.w3.org/2000/01/rdf-schema#label> ?l } }
            \"\"\" ] .
        ex:T a sh:NodeShape ; sh:targetSubjectsOf ex:p ;
            sh:sparql [ sh:message "no {?x}" ; sh:select \"\"\"
                SELECT ?this ?x WHERE { OPTIONAL { $this <http://example.org/q> ?x } FILTER(!bound(?x)) }
            \"\"\" ] .
        ex:U a sh:NodeShape ; sh:targetSubjectsOf ex:p ;
            sh:sparql [ sh:message "{?n} values" ; sh:select \"\"\"
                SELECT $this (COUNT(?v) AS ?n) WHERE { $this <http://example.org/p> ?v }
                GROUP BY $this HAVING (COUNT(?v) > 1)
            \"\"\" ] .""",
        """ex:a ex:p 1 ; rdfs:label "A" ; ex:q 1 .
        ex:b ex:p 1, 2 . ex:c ex:p 1 ; ex:q 2 .""",
        4,  # label: b, c; q: b; count: b
        id="sparql-this-bound-by-the-focus-nodes",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetClass ex:Person ; sh:property [ sh:path ex:address ;
            sh:property [ sh:path ex:city ; sh:minCount 1 ; sh:class ex:City ;
                sh:property [ sh:path ex:name ; sh:datatype xsd:string ] ] ] .""",
        """ex:p1 a ex:Person ; ex:address ex:a1, ex:a2, ex:a3 . ex:p2 a ex:Person ; ex:address ex:a2 .
        ex:a1 ex:city ex:c1 . ex:a2 ex:city ex:c2 . ex:c1 a ex:City ; ex:name "C" .
        ex:c2 ex:name 2 .""",
        5,  # a3 has no city; c2 is no City, its name no string: each for p1 and for p2
        id="property-of-a-property-shape",
    ),
    # Severity, messages, deactivation -------------------------------------------------------
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:severity sh:Warning ;
            sh:message "a warning"@en, "un avertissement"@fr ; sh:class ex:C ;
            sh:property [ sh:path ex:p ; sh:severity sh:Info ; sh:datatype xsd:integer ;
                sh:message "an info" ] .""",
        'ex:x ex:p "1" .',
        2,
        id="severity-and-messages",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;
            sh:or ( [ sh:class ex:C ; sh:severity sh:Warning ] [ sh:datatype xsd:integer ] ) ] .
        ex:T sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:node ex:N ] .
        ex:N sh:property [ sh:path ex:unit ; sh:minCount 1 ; sh:severity sh:Warning ] .
        ex:U sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;
            sh:not [ sh:property [ sh:path ex:unit ; sh:minCount 1 ; sh:severity sh:Info ] ] ] .""",
        'ex:x ex:p ex:a, "s" . ex:a ex:unit "u" .',
        3,  # or: a warning shape conforms; node: "s" has a warning; not: both conform
        id="severity-of-shapes-in-logical-and-shape-based-constraints",
    ),
    pytest.param(
        """ex:Off a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:deactivated true ; sh:class ex:C .
        ex:On a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:deactivated false ;
            sh:property [ sh:path ex:p ; sh:deactivated true ; sh:minCount 5 ] ;
            sh:property [ sh:path ex:p ; sh:node ex:Off ] ;
            sh:sparql [ sh:deactivated true ; sh:select "SELECT $this WHERE { $this ?p ?o }" ] ;
            sh:property [ sh:path ex:p ; sh:maxCount 1 ] .""",
        "ex:x ex:p 1, 2 .",
        1,
        id="deactivated",
    ),
    # Targets --------------------------------------------------------------------------------
    pytest.param(
        """ex:ByClass a sh:NodeShape ; sh:targetClass ex:C ; sh:nodeKind sh:BlankNode .
        ex:ByNode a sh:NodeShape ; sh:targetNode ex:a, ex:absent, "lit" ; sh:nodeKind sh:BlankNode .
        ex:BySubject a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:nodeKind sh:BlankNode .
        ex:ByObject a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:nodeKind sh:BlankNode .""",
        """ex:D rdfs:subClassOf ex:C . ex:a a ex:C . ex:b a ex:D . [ a ex:C ] .
        ex:s ex:p ex:o, "o", [ ex:q 1 ] .""",
        8,  # class: a, b; node: a, absent, "lit"; subject: s; object: o, "o"
        id="targets",
    ),
    pytest.param(
        """ex:Person a rdfs:Class, sh:NodeShape ;
            sh:property [ sh:path ex:name ; sh:minCount 1 ] .
        ex:Pet a rdfs:Class, sh:NodeShape ; sh:targetClass ex:Animal ; sh:class ex:Pet .""",
        """ex:Student rdfs:subClassOf ex:Person .
        ex:p a ex:Person . ex:s a ex:Student . ex:n a ex:Person ; ex:name "N" .
        ex:dog a ex:Pet, ex:Animal . ex:cow a ex:Animal .""",
        3,
        id="implicit-class-targets",
    ),
    # Paths ----------------------------------------------------------------------------------
    pytest.param(
        """ex:S sh:targetNode ex:b ; sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 2 ;
            sh:class ex:C ] .""",
        "ex:a ex:p ex:b . ex:c ex:p ex:b . ex:a a ex:C .",
        1,
        id="path-inverse",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ; sh:property [ sh:path ( ex:p ex:q ) ; sh:datatype xsd:integer ;
            sh:maxCount 2 ] .""",
        'ex:a ex:p ex:b, ex:c . ex:b ex:q 1, "x" . ex:c ex:q 1, 2 .',
        2,
        id="path-sequence",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ; sh:property [ sh:path [ sh:alternativePath ( ex:p ex:q ) ] ;
            sh:datatype xsd:integer ] .""",
        'ex:a ex:p 1, "x" ; ex:q "y", 2 ; ex:r "z" .',
        2,
        id="path-alternative",
    ),
    pytest.param(
        """ex:Star sh:targetNode ex:a ; sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ;
            sh:nodeKind sh:IRI ; sh:maxCount 3 ] .
        ex:Plus sh:targetNode ex:a ; sh:property [ sh:path [ sh:oneOrMorePath ex:p ] ;
            sh:nodeKind sh:IRI ] .
        ex:Opt sh:targetNode ex:a ; sh:property [ sh:path [ sh:zeroOrOnePath ex:p ] ;
            sh:class ex:C ] .""",
        """ex:a ex:p ex:b . ex:b ex:p ex:c, "leaf" . ex:c ex:p ex:a .
        ex:b a ex:C .""",
        4,  # star: "leaf", count 4; plus: "leaf"; opt: ex:a is no ex:C
        id="path-zeroOrMore-oneOrMore-zeroOrOne",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a, ex:absent, "lit" ; sh:property [
            sh:path [ sh:zeroOrMorePath ex:p ] ; sh:nodeKind sh:IRI ; sh:minCount 1 ;
            sh:hasValue ex:a ; sh:qualifiedValueShape [ sh:nodeKind sh:Literal ] ;
            sh:qualifiedMaxCount 0 ] .""",
        "ex:a ex:p ex:b .",
        4,  # ex:absent and "lit" are their own values: both lack ex:a, "lit" is a literal
        id="path-of-length-zero-from-a-node-not-in-the-data",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ; sh:property [
            sh:path ( [ sh:inversePath ex:p ] [ sh:zeroOrMorePath [ sh:alternativePath ( ex:q ex:r ) ] ] ) ;
            sh:datatype xsd:string ] .""",
        'ex:x ex:p ex:a ; ex:q "s" ; ex:r ex:y . ex:y ex:q 1 .',
        3,  # ex:x, ex:y, 1
        id="path-nested",
    ),
]


@pytest.mark.parametrize(("shapes", "data", "count"), MATRIX)
def test_compiled_engine_gives_pyshacls_results(
    tmp_path: Path, shapes: str, data: str, count: int
) -> None:
    found = same_results(dataset(tmp_path, shapes, data))
    assert len(found) == count, "\n".join(map(str, found))


def test_results_name_paths_values_and_messages(tmp_path: Path) -> None:
    d = dataset(
        tmp_path,
        """ex:S a sh:NodeShape ; sh:targetNode ex:x ;
            sh:property [ sh:path ( ex:p [ sh:inversePath ex:q ] ) ; sh:hasValue ex:v ;
                sh:message "needs ex:v" ] .""",
        "ex:x ex:p ex:y . ex:z ex:q ex:y .",
    )
    (result,) = same_results(d)
    assert result[1:4] == (
        "<http://example.org/x>",
        "<http://example.org/p>/^<http://example.org/q>",
        None,
    )
    assert result[-1] == "needs ex:v"


# What the compiler leaves to pyshacl ------------------------------------------------------------

UNSUPPORTED = [
    pytest.param(
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:equals ex:q ] .", id="equals"
    ),
    pytest.param(
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:lessThan ex:q ] .",
        id="lessThan",
    ),
    pytest.param(
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:disjoint ex:q ] .",
        id="disjoint",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ;
            sh:select "SELECT ?this WHERE { ?this ?p ?o }" ] ; sh:nodeKind sh:BlankNode .""",
        id="sparql-target",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ;
            sh:property [ sh:path ex:p ; sh:qualifiedValueShape [ sh:class ex:C ] ;
                sh:qualifiedMinCount 1 ; sh:qualifiedValueShapesDisjoint true ] ;
            sh:property [ sh:path ex:p ; sh:qualifiedValueShape [ sh:class ex:D ] ;
                sh:qualifiedMinCount 1 ; sh:qualifiedValueShapesDisjoint true ] .""",
        id="qualifiedValueShapesDisjoint",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:nodeKind sh:IRI ;
            sh:property [ sh:path ex:p ; sh:node ex:S ] .""",
        id="recursive-shapes",
    ),
    pytest.param(
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:datatype xsd:int ] .",
        id="datatype-int",
    ),
    pytest.param(
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:datatype rdfs:Literal ] .",
        id="datatype-rdfs-Literal",
    ),
    pytest.param(
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:datatype rdf:XMLLiteral ] .",
        id="datatype-XMLLiteral",
    ),
    pytest.param(
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 5 ] .",
        id="minCount-5",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:pattern "^(?!http)" ] .""",
        id="pattern-with-look-ahead",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:pattern "^a.b$" ; sh:flags "s" ] .""",
        id="pattern-flag-s",
    ),
    pytest.param(
        """ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ;
            sh:sparql [ sh:select "SELECT $this ?value WHERE { $this $PATH ?value }" ] ] .""",
        id="sparql-on-a-property-shape",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetNode ex:a ;
            sh:sparql [ sh:select "SELECT ?value WHERE { $this <http://example.org/p> ?value }" ] .""",
        id="sparql-not-returning-this",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select
            "SELECT $this WHERE { $this <http://example.org/p> ?v } LIMIT 1" ] .""",
        id="sparql-limit",
    ),
    pytest.param(
        """ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select
            "SELECT $this WHERE { { FILTER(isIRI($this)) } }" ] .""",
        id="sparql-this-unbound-in-a-nested-group",
    ),
    pytest.param(
        """ex:MaxLength a sh:ConstraintComponent ; sh:parameter [ sh:path ex:maxLength ] ;
            sh:validator [ a sh:SPARQLAskValidator ;
                sh:ask "ASK { FILTER (STRLEN(STR($value)) <= $maxLength) }" ] .
        ex:S a sh:NodeShape ; sh:targetNode ex:a ; ex:maxLength 3 .""",
        id="declared-constraint-component",
    ),
]
DATA = "ex:a ex:p ex:b, 1 ; ex:q ex:b . ex:b a ex:C ."


@pytest.mark.parametrize("shapes", UNSUPPORTED)
def test_what_the_compiler_cannot_state_falls_back_to_pyshacl(tmp_path: Path, shapes: str) -> None:
    d = dataset(tmp_path, shapes, DATA)
    with pytest.raises(Unsupported):
        validate_dataset(d, engine="sparql")
    auto, fallback = results(d, "auto"), results(d, "pyshacl")
    assert auto[0].engine == "pyshacl"
    assert auto[1] == fallback[1]
    assert auto[1], "each case here has a result, to show pyshacl ran it"


@pytest.mark.parametrize(
    "select",
    [
        "SELECT $this WHERE { { SELECT ?x WHERE { ?x ?p $this } } }",
        "SELECT $this WHERE { $this ?p ?o MINUS { $this a ?c } }",
        "SELECT $this WHERE { $this ?p ?o } VALUES ?o { 1 }",
        "SELECT $this WHERE { $this ?p ?o SERVICE <http://example.org/> { ?o ?p ?x } }",
        "SELECT $this WHERE { BIND(<http://example.org/a> AS $this) }",
        "SELECT $this WHERE { $this ?p ?o { SELECT ?o WHERE { ?o ?q ?r } } }",
    ],
)
@pytest.mark.parametrize("engine", ["sparql", "auto"])
def test_sparql_constraints_breaking_the_prebinding_rules_are_a_failure(
    tmp_path: Path, select: str, engine: str
) -> None:
    """SHACL §5.3.1.1: no MINUS, VALUES, SERVICE or AS $this, and every sub-select returns
    $this. Such shapes cannot be evaluated (no verdict on the data): an error naming them."""
    shapes = f'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select "{select}" ] .'
    with pytest.raises(EvaluationError, match=r"pre-binding|sub-select") as caught:
        validate_dataset(dataset(tmp_path, shapes, DATA), engine=engine)
    assert re.search(r"of (ex:S|<http://example.org/S>):", caught.value.message)


@pytest.mark.parametrize(
    "select",
    [
        "SELECT $this ?failure WHERE { $this ?p ?o BIND(true AS ?failure) }",
        "SELECT $this WHERE { GRAPH ?g { $this ?p ?o } }",
    ],
)
def test_sparql_constraints_pyshacl_rejects_are_not_compiled(tmp_path: Path, select: str) -> None:
    shapes = f'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select "{select}" ] .'
    with pytest.raises(Unsupported):
        validate_dataset(dataset(tmp_path, shapes, DATA), engine="sparql")


# Where pyshacl departs from the specification ---------------------------------------------------

DEPARTURES = [
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:datatype xsd:gYear ] .
        ex:T sh:targetSubjectsOf ex:q ; sh:property [ sh:path ex:q ; sh:datatype xsd:dateTime ] .""",
        'ex:x ex:p "2020"^^xsd:gYear, "x"^^xsd:gYear . ex:y ex:q "2020-01-01"^^xsd:dateTime .',
        {'"x"^^xsd:gYear Datatype', '"2020-01-01"^^xsd:dateTime Datatype'},
        set(),
        # rdflib does not check a gYear at all, and reads a date as a dateTime.
        id="ill-formed-gYear-and-dateTime",
    ),
    pytest.param(
        "ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:datatype xsd:integer ] .",
        'ex:x ex:p " 7 "^^xsd:integer, "1e3"^^xsd:integer .',
        {'" 7 "^^xsd:integer Datatype', '"1e3"^^xsd:integer Datatype'},
        {'"1e3"^^xsd:integer Datatype'},
        # Python's int() takes " 7 ", no xsd:integer lexical form.
        id="integer-with-spaces",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:p ; sh:maxExclusive 6.5 ] ;
            sh:property [ sh:path ex:p ; sh:minExclusive "2020-01-01"^^xsd:date ] .""",
        "ex:x ex:p true, 20200601 .",
        {
            '"true"^^xsd:boolean MaxExclusive',
            '"true"^^xsd:boolean MinExclusive',
            '"20200601"^^xsd:integer MaxExclusive',
            '"20200601"^^xsd:integer MinExclusive',
        },
        {'"true"^^xsd:boolean MinExclusive', '"20200601"^^xsd:integer MaxExclusive'},
        # pyshacl compares a boolean as a Python int, an integer and a date in rdflib's order.
        id="range-across-types",
    ),
    pytest.param(
        """ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ;
            sh:minInclusive "2020"^^xsd:gYear ; sh:maxInclusive "2030"^^xsd:gYear ] .""",
        'ex:x ex:p "2019"^^xsd:gYear, "2021"^^xsd:gYear, "2031"^^xsd:gYear .',
        {'"2019"^^xsd:gYear MinInclusive', '"2031"^^xsd:gYear MaxInclusive'},
        {
            '"2019"^^xsd:gYear MinInclusive',
            '"2019"^^xsd:gYear MaxInclusive',
            '"2021"^^xsd:gYear MinInclusive',
            '"2021"^^xsd:gYear MaxInclusive',
            '"2031"^^xsd:gYear MinInclusive',
            '"2031"^^xsd:gYear MaxInclusive',
        },
        # rdflib has no value for a gYear, and pyshacl fails every gYear against both bounds.
        id="gYear-range",
    ),
    pytest.param(
        "ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:minLength 0 ] .",
        'ex:x ex:p "", [ ex:q 1 ] .',
        {"_: MinLength"},
        set(),
        # "or where v is a blank node": pyshacl lets any value pass a minimum length of 0.
        id="minLength-0-and-a-blank-node",
    ),
]


def short(k: Key) -> str:
    """A result as "value Component", with xsd: for the XML Schema namespace."""
    value = re.sub(r"<http://www.w3.org/2001/XMLSchema#(\w+)>", r"xsd:\1", k[3] or "")
    value = "_:" if value.startswith("_:") else value
    component = (k[5] or "").rsplit("#", 1)[-1].removesuffix("ConstraintComponent>")
    return f"{value} {component}"


@pytest.mark.parametrize(("shapes", "data", "compiled", "reference"), DEPARTURES)
def test_where_pyshacl_departs_from_the_spec_the_compiled_engine_does_not(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shapes: str,
    data: str,
    compiled: set[str],
    reference: set[str],
) -> None:
    # pyshacl reads literals with rdflib's table of datatypes, which OWL-RL inference (run by
    # other tests) extends for the rest of the process, with gYear among others: rdflib's own.
    monkeypatch.setattr(rdflib.term, "_toPythonMapping", dict(rdflib.term.XSDToPython))
    d = dataset(tmp_path, shapes, data)
    assert {short(k) for k in results(d, "sparql")[1]} == compiled
    assert {short(k) for k in results(d, "pyshacl")[1]} == reference


# Listing at most so many results ------------------------------------------------------------

MANY_SHAPES = """
ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ] ;
  sh:property [ sh:path ex:email ; sh:minCount 1 ; sh:severity sh:Warning ] .
"""
MANY_DATA = "\n".join(
    [f'ex:nameless{i} a ex:Person ; ex:email "n{i}@example.org" .' for i in range(7)]
    + [f'ex:mailless{i} a ex:Person ; ex:name "M{i}" .' for i in range(3)]
)


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_past_max_results_the_rest_are_counted_not_listed(tmp_path: Path, engine: str) -> None:
    d = dataset(tmp_path, MANY_SHAPES, MANY_DATA)
    everything = validate_dataset(d, fail_on="Info", engine=engine, max_results=None)
    assert len(everything.results) == 10 and not everything.omitted
    cut = validate_dataset(d, fail_on="Info", engine=engine, max_results=4)
    assert cut.engine == engine
    assert [r.severity for r in cut.results] == ["Violation"] * 4  # the most severe first
    assert cut.counts == everything.counts == {"Violation": 7, "Warning": 3, "Info": 0}
    assert cut.omitted == {"Violation": 3, "Warning": 3}
    # The same four on every run and from either engine: the most severe, then by focus node.
    assert sorted(r.focus for r in cut.results) == [
        f"<http://example.org/nameless{i}>" for i in range(4)
    ]
    assert "(4 listed, 6 more not listed)" in cut.summary()
    graph = cut.report_graph
    assert graph is not None and len(list(graph.objects(None, SH.result))) == 4
    assert len(set(graph.subjects(SH.focusNode, None))) == 4  # the rest left the graph too


NODE_SHAPES = """
ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
  sh:property [ sh:path ex:address ; sh:node ex:AddressShape ] .
ex:AddressShape a sh:NodeShape ;
  sh:property [ sh:path ex:city ; sh:minCount 1 ; sh:message "An address needs a city." ] .
"""
NODE_DATA = "\n".join(
    f"ex:p{i} a ex:Person ; ex:address ex:a{i} . ex:a{i} ex:street 'S' ." for i in range(30)
)


def test_the_reasons_of_a_failing_node_are_asked_only_for_the_listed_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real = running._details

    def spy(query, focus, check, inner):  # type: ignore[no-untyped-def]
        asked.append(focus)
        return real(query, focus, check, inner)

    monkeypatch.setattr(running, "_details", spy)
    d = dataset(tmp_path, NODE_SHAPES, NODE_DATA)
    everything = validate_dataset(d, engine="sparql", max_results=None)
    cut = validate_dataset(d, engine="sparql", max_results=2)
    assert len(everything.results) == 30 and len(cut.results) == 2
    assert [r.focus for r in cut.results] == ["<http://example.org/p0>", "<http://example.org/p1>"]
    assert asked[-1] == "VALUES ?this { <http://example.org/p0> <http://example.org/p1> }"
    full = {r.focus: r.message for r in everything.results}
    for r in cut.results:
        assert "An address needs a city." in r.message and r.message == full[r.focus]


def test_a_report_listing_nothing_still_does_not_conform(tmp_path: Path) -> None:
    d = dataset(tmp_path, MANY_SHAPES, MANY_DATA)
    report = validate_dataset(d, engine="sparql", max_results=0)
    assert report.results == [] and report.omitted == {"Violation": 7, "Warning": 3}
    assert not report.conforms
    graph = report.report_graph
    assert graph is not None and (None, SH.conforms, rdflib.Literal(False)) in graph
    warnings_only = validate_dataset(
        dataset(tmp_path, MANY_SHAPES, MANY_DATA.replace("; ex:email", '; ex:name "N" ; ex:email')),
        engine="sparql",
        max_results=0,
    )
    assert warnings_only.conforms  # three warnings, counted, do not fail a Violation check
