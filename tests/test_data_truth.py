"""The data says what the source text says, no more: plans, roles, open lists, third-party terms,
time and provenance, each asked as a user of the SPARQL endpoint would ask it."""

from __future__ import annotations

import pytest

from leapsld.query import run_query

ID = "https://w3id.org/leaps/id/"
PREFIXES = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX leaps: <https://w3id.org/leaps/def#>
PREFIX ok: <https://w3id.org/leaps/id/concept/organisation-kind/>
PREFIX panet: <http://purl.org/pan-science/PaNET/>
"""


@pytest.fixture(scope="module")
def rows(dataset):  # type: ignore[no-untyped-def]
    def run(text: str, **kwargs: object) -> list[dict[str, str]]:
        outcome = run_query(dataset.store, PREFIXES + text, **kwargs)  # type: ignore[arg-type]
        if outcome.boolean is not None:
            return [{"ask": str(outcome.boolean).lower()}]
        return [
            {v: t.value for v, t in zip(outcome.variables, row, strict=True) if t is not None}
            for row in outcome.rows
        ]

    return run


def test_nobody_coordinates_light_for_ukraine_itself(rows) -> None:  # type: ignore[no-untyped-def]
    coordinators = rows(f"""SELECT ?who WHERE {{ ?m org:organization <{ID}project/light-for-ukraine> ;
        org:role <{ID}concept/role/coordinator> ; org:member ?who }}""")
    assert coordinators == []
    roles = rows(f"""SELECT ?role WHERE {{ ?m org:organization <{ID}project/light-for-ukraine> ;
        org:member <{ID}org/solaris> ; org:role/skos:prefLabel ?role }}""")
    assert roles == [{"role": "communication coordinator"}]


def test_the_planned_beamline_is_told_from_the_built_ones(rows) -> None:  # type: ignore[no-untyped-def]
    assert rows("""SELECT ?name ?status WHERE { ?b a leaps:Beamline ; rdfs:label ?name ;
        leaps:status/skos:prefLabel ?status } ORDER BY ?name""") == [
        {"name": "BEATS beamline", "status": "existing"},
        {"name": "HESEB soft X-ray beamline", "status": "existing"},
        {"name": "Light for Ukraine beamline", "status": "planned"},
    ]
    # no present ownership is asserted anywhere
    assert rows("ASK { ?owner schema:owns ?thing }") == [{"ask": "false"}]


def test_open_lists_are_lower_bounds_and_the_closed_one_is_exact(rows) -> None:  # type: ignore[no-untyped-def]
    found = rows("""SELECT ?name ?exactly ?atLeast WHERE {
        ?o leaps:memberCount ?c ; rdfs:label ?name .
        OPTIONAL { ?c schema:value ?exactly } OPTIONAL { ?c schema:minValue ?atLeast }
    } ORDER BY ?name""")
    assert found == [
        {"name": "African Light Source Foundation", "exactly": "8"},
        {"name": "BEATS", "atLeast": "8"},
        {"name": "HESEB", "atLeast": "3"},
        {"name": "LAAAMP", "atLeast": "4"},
        {"name": "OPEN SESAME", "atLeast": "7"},
        {"name": "SUNSTONE", "atLeast": "7"},
    ]


def test_overlapping_projects_overlap_as_a_reader_of_the_text_sees_them(rows) -> None:  # type: ignore[no-untyped-def]
    pairs = rows("""SELECT ?a ?b WHERE {
        ?p rdfs:label ?a ; time:hasTime ?pi . ?q rdfs:label ?b ; time:hasTime ?qi .
        ?pi time:intervalStartedBy/time:hasDateTimeDescription/time:year ?ps ;
            time:intervalFinishedBy/time:hasDateTimeDescription/time:year ?pe .
        ?qi time:intervalStartedBy/time:hasDateTimeDescription/time:year ?qs ;
            time:intervalFinishedBy/time:hasDateTimeDescription/time:year ?qe .
        ?p org:classification/skos:broader* ok:project . ?q org:classification/skos:broader* ok:project .
        FILTER (STR(?a) < STR(?b) && STR(?ps) <= STR(?qe) && STR(?qs) <= STR(?pe))
    } ORDER BY ?a ?b""")
    assert [(p["a"], p["b"]) for p in pairs] == [
        ("BEATS", "HESEB"),
        ("BEATS", "OPEN SESAME"),  # both ran in 2019: the text's ranges share a year
        ("HESEB", "OPEN SESAME"),
        ("HESEB", "SUNSTONE"),  # both ran in 2024
    ]
    # no two periods share an instant: years are intervals, not time:Instants
    assert rows("ASK { ?x a time:Instant }") == [{"ask": "false"}]


def test_panet_terms_are_referred_to_not_redefined(rows) -> None:  # type: ignore[no-untyped-def]
    assert rows("ASK { ?t a ?c FILTER(STRSTARTS(STR(?t), STR(panet:))) }") == [{"ask": "false"}]
    assert rows(
        "ASK { ?t ?p ?o FILTER(STRSTARTS(STR(?t), STR(panet:)) && ?p IN "
        "(rdfs:isDefinedBy, skos:inScheme, skos:topConceptOf, skos:definition, skos:prefLabel)) }"
    ) == [{"ask": "false"}]
    # what is said of them is PaNET's own wording, from PaNET's table
    assert rows(
        "SELECT ?t ?label WHERE { ?t rdfs:label ?label FILTER(STRSTARTS(STR(?t), STR(panet:))) } ORDER BY ?t"
    ) == [
        {
            "t": "http://purl.org/pan-science/PaNET/PaNET01015",
            "label": "soft x-ray probe technique",
        },
        {"t": "http://purl.org/pan-science/PaNET/PaNET01207", "label": "x-ray tomography"},
    ]
    assert rows("ASK { <http://purl.org/cerif/frapo/FundingProgramme> rdfs:subClassOf ?c }") == [
        {"ask": "false"}
    ]


def test_publishers_and_creators_are_agents(rows) -> None:  # type: ignore[no-untyped-def]
    assert rows("ASK { ?s dcterms:publisher|dcterms:creator ?o FILTER isLiteral(?o) }") == [
        {"ask": "false"}
    ]


def test_the_vision_keeps_cerns_time_and_place_in_its_comparison(rows) -> None:  # type: ignore[no-untyped-def]
    assert rows(f"ASK {{ <{ID}statement/sesame-vision> dcterms:temporal ?t }}") == [
        {"ask": "false"}
    ]
    assert rows(f"""SELECT ?with ?where ?from ?to WHERE {{
        <{ID}statement/sesame-vision> leaps:comparison ?c .
        ?c leaps:comparedWith/rdfs:label ?with ; dcterms:spatial/skos:prefLabel ?where ;
           time:hasTime ?t .
        ?t time:intervalStartedBy/time:hasDateTimeDescription/time:year ?from ;
           time:intervalFinishedBy/time:hasDateTimeDescription/time:year ?to }}""") == [
        {"with": "CERN", "where": "Europe", "from": "1950", "to": "1959"}
    ]


def test_every_ordinal_says_the_first_of_what(rows) -> None:  # type: ignore[no-untyped-def]
    assert rows("ASK { ?x leaps:ordinal ?n FILTER NOT EXISTS { ?x leaps:ordinalScope ?s } }") == [
        {"ask": "false"}
    ]


def test_countries_the_text_names_are_sourced_to_the_text(rows, dataset) -> None:  # type: ignore[no-untyped-def]
    found = rows(
        f"""SELECT ?name ?g WHERE {{ GRAPH ?g {{ ?o schema:location <{ID}concept/country/ua> }}
        ?o rdfs:label ?name }} ORDER BY ?name"""
    )
    assert {(r["name"], r["g"].rsplit("/", 1)[-1]) for r in found} == {
        ("National Academy of Sciences of Ukraine", "organisations"),
        ("Ukraine Scientific Society", "organisations"),
        ("Ukrainian Society of synchrotron radiation users", "organisations"),
    }
    # the others come from ROR alone, in the ROR graph
    in_text = rows(
        """SELECT ?o WHERE { GRAPH <https://w3id.org/leaps/graph/data/organisations> {
        ?o schema:location ?c } }"""
    )
    assert len(in_text) == 3


def test_graph_and_resource_provenance_agree(rows) -> None:  # type: ignore[no-untyped-def]
    """Every resource's dcterms:source in a data graph is that graph's source, a part of it, or
    (for ROR) a record under it; and every data graph names its source."""
    graphs = rows("""SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o }
        FILTER(STRSTARTS(STR(?g), "https://w3id.org/leaps/graph/data/")) }""")
    assert len(graphs) >= 12
    unsourced = rows("""SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o }
        FILTER(STRSTARTS(STR(?g), "https://w3id.org/leaps/graph/data/"))
        FILTER NOT EXISTS { GRAPH ?g { ?g dcterms:source ?src } } } GROUP BY ?g""")
    assert unsourced == []
    disagree = rows("""SELECT ?g ?s ?src WHERE {
        GRAPH ?g { ?s dcterms:source ?src FILTER(?s != ?g) }
        FILTER(STRSTARTS(STR(?g), "https://w3id.org/leaps/graph/data/"))
        FILTER NOT EXISTS {
          GRAPH ?g { ?g dcterms:source ?gs }
          FILTER(?src = ?gs || STRSTARTS(STR(?src), STR(?gs))
                 || EXISTS { ?src dcterms:isPartOf+ ?gs }
                 || EXISTS { ?s dcterms:isPartOf+ ?gs })
        } }""")
    assert disagree == []
