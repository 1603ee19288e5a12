"""Deterministic synthetic data shaped like the LEAPS dataset, at any size.

Facilities with kinds and countries, networks with memberships (roles, periods), projects with
participants, grants and funding programmes, beamlines, workshops with lower-bound participant
counts, outcome figures, multilingual labels: the same classes and properties as ``data/``, so
the project's own ontology and shapes apply (the output conforms to them).

    python benchmarks/generate.py --triples 1000000 > benchmarks/data/leaps-1m.ttl
"""

from __future__ import annotations

import argparse
import random
import sys

HEADER = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix schema: <https://schema.org/> .
@prefix frapo: <http://purl.org/cerif/frapo/> .
@prefix leaps: <https://w3id.org/leaps/def#> .
@prefix panet: <http://purl.org/pan-science/PaNET/> .
@prefix o: <https://w3id.org/leaps/id/org/> .
@prefix p: <https://w3id.org/leaps/id/project/> .
@prefix m: <https://w3id.org/leaps/id/membership/> .
@prefix g: <https://w3id.org/leaps/id/grant/> .
@prefix b: <https://w3id.org/leaps/id/beamline/> .
@prefix e: <https://w3id.org/leaps/id/event/> .
@prefix f: <https://w3id.org/leaps/id/figure/> .
@prefix i: <https://w3id.org/leaps/id/interval/> .
@prefix y: <https://w3id.org/leaps/id/year/> .
@prefix series: <https://w3id.org/leaps/id/series/> .
@prefix status: <https://w3id.org/leaps/id/concept/status/> .
@prefix technique: <https://w3id.org/leaps/id/concept/technique/> .
@prefix fp: <https://w3id.org/leaps/id/programme/> .
@prefix role: <https://w3id.org/leaps/id/concept/role/> .
@prefix ok: <https://w3id.org/leaps/id/concept/organisation-kind/> .
@prefix pk: <https://w3id.org/leaps/id/concept/project-kind/> .
@prefix metric: <https://w3id.org/leaps/id/concept/metric/> .
@prefix country: <https://w3id.org/leaps/id/concept/country/> .
@prefix region: <https://w3id.org/leaps/id/concept/region/> .
@prefix sec: <https://w3id.org/leaps/id/source/leaps-science-diplomacy/> .
"""
ORG_KINDS = (
    "light-source-facility",
    "synchrotron-light-source",
    "research-organisation",
    "society",
    "academy",
    "foundation",
)
PROJECT_KINDS = ("collaboration-project", "training", "beamline-construction", "capacity-building")
COUNTRIES = ("es", "it", "fr", "se", "de", "gb", "ch", "pl", "jo", "ua")
REGIONS = ("africa", "americas", "asia", "middle-east", "pacific")
LANGUAGES = ("de", "fr", "it", "es")
WORDS = (
    "light",
    "photon",
    "science",
    "beam",
    "crystal",
    "quantum",
    "source",
    "bridge",
    "peace",
    "wave",
    "laser",
    "ring",
)
SOURCE = "dcterms:source sec:sesame"


def name(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS).capitalize() for _ in range(2)) + f" {n}"


def generate(target: int, seed: int, out) -> int:  # type: ignore[no-untyped-def]
    """Write about ``target`` triples of Turtle to ``out``; return the count written."""
    rng = random.Random(seed)
    out.write(HEADER)
    written = 0
    for year in range(1950, 2041):
        out.write(
            f'y:{year} a time:DateTimeInterval ; rdfs:label "{year}"@en ; time:hasDateTimeDescription [\n'
            f'    a time:DateTimeDescription ; time:unitType time:unitYear ; time:year "{year}"^^xsd:gYear ] ; {SOURCE} .\n'
        )
        written += 7
    out.write(
        'series:beamlines a leaps:Series ; rdfs:label "Synthetic beamlines"@en ;\n'
        f'    schema:description "The beamlines of the synthetic data, in order."@en ; {SOURCE} .\n'
    )
    written += 4
    for code in COUNTRIES:
        out.write(
            f'country:{code} a skos:Concept, schema:Country ; rdfs:label "Country {code.upper()}"@en ;\n'
            f'    skos:prefLabel "Country {code.upper()}"@en ; skos:notation "{code.upper()}" ;\n'
            f'    skos:definition "A country."@en ; skos:inScheme <https://w3id.org/leaps/id/scheme/countries> ; {SOURCE} .\n'
        )
        written += 8
    for programme in range(20):
        out.write(
            f'fp:programme-{programme} a schema:FundingScheme ; rdfs:label "Programme {programme}"@en ; {SOURCE} .\n'
        )
        written += 3
    orgs = max(50, target // 400)
    for n in range(orgs):
        label = name(rng, n).replace('"', "")
        out.write(
            f'o:org-{n} a org:FormalOrganization ; rdfs:label "{label}"@en, "{label} ({rng.choice(LANGUAGES)})"@{rng.choice(LANGUAGES)} ;\n'
            f"    org:classification ok:{rng.choice(ORG_KINDS)} ; schema:location country:{rng.choice(COUNTRIES)} ;\n"
            f'    schema:description "A {label.lower()} facility."@en ; {SOURCE} .\n'
        )
        written += 7
    network = 0
    project = 0
    while written < target:
        if project % 25 == 0:  # a network with members and periods
            out.write(
                f'o:network-{network} a org:OrganizationalCollaboration ; rdfs:label "Network {network}"@en ; org:classification ok:network ; {SOURCE} .\n'
            )
            written += 4
            for k, member in enumerate(rng.sample(range(orgs), 12)):
                start = rng.randrange(1990, 2020)
                out.write(
                    f'i:network-{network}-{k} a time:ProperInterval ; rdfs:label "since {start}"@en ; time:intervalStartedBy y:{start} ; {SOURCE} .\n'
                    f'm:network-{network}-{k} a org:Membership ; rdfs:label "member {k} of network {network}"@en ;\n'
                    f"    org:member o:org-{member} ; org:organization o:network-{network} ;\n"
                    f"    org:role role:{'associate-member' if k % 5 == 0 else 'member'} ; org:memberDuring i:network-{network}-{k} ; {SOURCE} .\n"
                )
                written += 11
            network += 1
        start = rng.randrange(1995, 2030)
        end = start + rng.randrange(1, 8)
        kinds = rng.sample(PROJECT_KINDS, 2)
        out.write(
            f'p:project-{project} a schema:ResearchProject, org:OrganizationalCollaboration ; rdfs:label "{name(rng, project)}"@en ;\n'
            f"    org:classification ok:project, pk:{kinds[0]}, pk:{kinds[1]} ; time:hasTime i:project-{project} ; schema:funding g:project-{project} ;\n"
            f"    dcterms:spatial region:{rng.choice(REGIONS)} ; leaps:outcome f:project-{project}-hours ;\n"
            f'    schema:description "Project {project} on {rng.choice(WORDS)} and {rng.choice(WORDS)}."@en ; {SOURCE} .\n'
            f'i:project-{project} a time:ProperInterval ; rdfs:label "{start} to {end}"@en ; time:intervalStartedBy y:{start} ; time:intervalFinishedBy y:{end} ; {SOURCE} .\n'
            f'g:project-{project} a schema:MonetaryGrant, frapo:Grant ; rdfs:label "Grant of project {project}"@en ;\n'
            f'    schema:fundedItem p:project-{project} ; schema:funder fp:programme-{rng.randrange(20)} ; frapo:hasGrantNumber "{800000 + project}" ; {SOURCE} .\n'
            f'f:project-{project}-hours a schema:PropertyValue ; rdfs:label "Training hours of project {project}"@en ;\n'
            f'    schema:propertyID metric:training-hours ; schema:minValue {rng.randrange(100, 50000)} ; leaps:minExclusive true ; schema:unitText "hours" ; {SOURCE} .\n'
        )
        written += 34
        for k, member in enumerate(rng.sample(range(orgs), rng.randrange(3, 9))):
            out.write(
                f'm:project-{project}-{k} a org:Membership ; rdfs:label "participant {k} of project {project}"@en ;\n'
                f"    org:member o:org-{member} ; org:organization p:project-{project} ;\n"
                f"    org:role role:{'coordinator' if k == 0 else 'participant'} ; {SOURCE} .\n"
            )
            written += 6
        if project % 4 == 0:
            out.write(
                f'b:beamline-{project} a leaps:Beamline ; rdfs:label "Beamline {project}"@en ; leaps:technique technique:{"x-ray-tomography" if project % 8 else "soft-x-ray"} ;\n'
                f"    leaps:status status:existing ; leaps:hostedBy o:org-{rng.randrange(orgs)} ; leaps:constructedBy p:project-{project} ;\n"
                f"    leaps:ordinal {1 + project % 3} ; leaps:ordinalScope series:beamlines ;\n"
                f'    schema:description "A beamline."@en ; {SOURCE} .\n'
                f'e:workshops-{project} a schema:EventSeries ; rdfs:label "Workshops {project}"@en ; schema:organizer o:org-{rng.randrange(orgs)} ;\n'
                f'    schema:about p:project-{project} ; leaps:participantCount [ a schema:QuantitativeValue ; schema:minValue {rng.randrange(10, 900)} ; schema:unitText "scientists" ] ;\n'
                f'    schema:description "Workshops."@en ; {SOURCE} .\n'
            )
            written += 23
        project += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    count = generate(args.triples, args.seed, sys.stdout)
    print(f"# about {count} triples", file=sys.stderr)


if __name__ == "__main__":
    main()
