"""The pages for people and crawlers over plain HTTP (Flask's client): sitemap, robots, the
HTML of VoID, shapes and the ontology, class pages paged by key, search, resource pages."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from leapsld.sitemap import files_needed, index, urlset

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ORG = "http://www.w3.org/ns/org#FormalOrganization"


def html(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, (path, response.data[:300])
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_robots_names_the_sitemap_and_keeps_crawlers_off_queries(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in text
    assert "Disallow: /sparql" in text and "Disallow: /search" in text


def test_sitemap_lists_every_resource_with_a_date_and_every_url_answers(client, dataset) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SM}urlset"
    urls = [u.findtext(f"{SM}loc") for u in root.iter(f"{SM}url")]
    dates = {u.findtext(f"{SM}lastmod") for u in root.iter(f"{SM}url")}
    # the date the sources last changed (a dirty git tree has none: then no lastmod, honestly)
    expected = dataset.modified.date().isoformat() if dataset.modified else None
    assert dates == {expected}
    assert "http://localhost/doc/org/sesame" in urls
    assert len([u for u in urls if "/doc/" in u]) >= 150
    for url in urls[:8] + urls[-5:]:
        assert client.get(url.removeprefix("http://localhost")).status_code == 200, url


def test_a_sitemap_past_fifty_thousand_urls_is_an_index() -> None:
    assert files_needed(50_000) == 0 and files_needed(50_001) == 2 and files_needed(100_001) == 3
    root = ET.fromstring(
        index(["http://x/sitemap-1.xml", "http://x/sitemap-2.xml"], lastmod="2026-01-02")
    )
    assert root.tag == f"{SM}sitemapindex" and len(root) == 2
    assert (
        ET.fromstring(urlset(["http://x/a&b"], lastmod=None)).findtext(f"{SM}url/{SM}loc")
        == "http://x/a&b"
    )


@pytest.mark.parametrize("path", ["/void", "/shapes", "/void.html", "/shapes.html"])
def test_void_and_shapes_read_as_html_in_a_browser(client, path: str) -> None:  # type: ignore[no-untyped-def]
    text = html(client, path)
    assert "<h1>" in text and "@prefix" not in text
    assert 'href="http://localhost' in text  # links, not raw Turtle


def test_void_stays_turtle_for_rdf_clients(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/void", headers={"Accept": "text/turtle"})
    assert response.mimetype == "text/turtle"


def test_ontology_reference_has_contents_anchors_schemes_and_linked_ranges(client) -> None:  # type: ignore[no-untyped-def]
    text = html(client, "/def")
    assert 'class="toc"' in text and 'id="classes"' in text and 'id="properties"' in text
    assert 'id="schemes"' in text
    anchors = re.findall(r'<section class="term" id="([^"]+)"', text)
    assert "Beamline" in anchors  # the fragment of https://w3id.org/leaps/def#Beamline
    for anchor in anchors:
        if not anchor.startswith("scheme-"):
            assert f'href="#{anchor}"' in text  # the contents link every term
    assert re.search(r"<dt>range</dt><dd>(<a href=\"[^\"]+\"[^>]*>[^<]+</a>)", text)


def test_class_pages_are_paged_by_key(app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    site = app.extensions["leapsld"]
    members, following = site.labels.members(ORG, limit=5)
    assert len(members) == 5 and following == members[-1].iri
    first = html(client, f"/browse?class={quote(ORG, safe='')}")
    count = site.labels.count(ORG)
    assert first.count("<li>") >= count  # one page holds them all at this size
    second, _ = site.labels.members(ORG, after=following, limit=5)
    assert second[0].label.casefold() >= members[-1].label.casefold()
    assert client.get(f"/browse?class={quote(ORG, safe='')}&after=urn:x").status_code == 404
    assert client.get("/browse").status_code == 400


def test_search_finds_labels_whole_words_first(client) -> None:  # type: ignore[no-untyped-def]
    text = html(client, "/search?q=sesame")
    hits = re.findall(r'<ul class="hits">(.*?)</ul>', text, re.DOTALL)[0]
    first = re.search(r">([^<]+)</a>", hits)
    assert first and first.group(1) == "SESAME"
    assert client.get("/search?q=" + "x" * 300).status_code == 400


def test_resource_page_reads_as_a_page(client) -> None:  # type: ignore[no-untyped-def]
    text = html(client, "/doc/org/sesame")
    assert "<h1>SESAME</h1>" in text
    assert 'class="type"' in text and "/browse?class=" in text
    assert "ROR 0567hb468" in text and "Wikidata Q" in text
    assert 'title="org:member"' in text  # the prefixed name behind a label
    assert ">member<" in text  # the label itself
    assert "Linked from" in text and 'class="count"' in text
    assert '<svg class="neighbourhood"' in text
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.DOTALL).group(1)
    )
    assert data["@context"] == "https://schema.org" and data["name"] == "SESAME"
    assert any("ror.org" in s for s in data["sameAs"])


def test_lower_bounds_and_numbers_read_as_people_write_them(client) -> None:  # type: ignore[no-untyped-def]
    text = html(client, "/doc/figure/open-sesame-training-hours")
    assert "more than 20,000" in text
    assert "200" in html(client, "/doc/figure/open-sesame-people-mobilised")


def test_home_page_says_what_the_dataset_is_and_draws_it(client, dataset) -> None:  # type: ignore[no-untyped-def]
    text = html(client, "/")
    assert dataset.version in text and "Licence" in text and "Source" in text
    assert 'class="cards"' in text and "/browse?class=" in text
    # entry points by kind, as the data tells them apart (views.toml's kinds), with counts
    cards = dict(
        re.findall(r'<span class="card-title">([^<]+)</span> <span class="count">([\d,]+)', text)
    )
    assert cards["Organisations"] == "22"  # the bodies the text names (CQ1), not its projects
    assert cards["Projects and programmes"] == "6" and cards["Light source facilities"] == "11"
    assert {"Networks", "Funders", "Funding programmes", "Beamlines", "Events"} <= set(cards)
    assert text.count('<svg class="picture') == 2
    assert 'href="/doc/org/esrf"' in text  # a node of the network links to its page
    assert "no end stated" in text  # the timeline's open end says so
    for target in ("/sparql", "/dumps/", "/.well-known/void", "/def", "/query"):
        assert target in text


def test_only_the_query_editor_relaxes_the_content_security_policy(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "yasgui" in page.get_data(as_text=True).lower()
    assert page.headers["Vary"].startswith("Accept")  # the same URL is the Service Description
    editor = page.headers["Content-Security-Policy"]
    assert client.get("/query").headers["Content-Security-Policy"] == editor
    home = client.get("/").headers["Content-Security-Policy"]
    described = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert described.content_type.startswith("text/turtle")
    assert "script-src" not in described.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in editor and "connect-src 'self'" in editor
    assert "script-src" not in home and "'unsafe-inline'" not in home
    assert "http" not in editor  # nothing from elsewhere, even there


def test_a_404_page_links_its_suggestions(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/doc/org/nowhere", headers={"Accept": "text/html"})
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert '<a href="http://localhost/doc/org/alba">' in text
    assert '<a href="https://w3id.org' not in text  # what it could not find is not a link


def test_past_its_limit_the_sitemap_is_an_index_of_files_that_answer(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    whole = ET.fromstring(client.get("/sitemap.xml").data)
    every = [u.findtext(f"{SM}loc") for u in whole.iter(f"{SM}url")]
    monkeypatch.setattr("leapsld.web.ui.PER_FILE", 50)  # as 50,000 would, at this size
    root = ET.fromstring(client.get("/sitemap.xml").data)
    assert root.tag == f"{SM}sitemapindex"
    files = [s.findtext(f"{SM}loc") for s in root.iter(f"{SM}sitemap")]
    assert len(files) == -(-len(every) // 50)
    listed = []
    for url in files:
        part = ET.fromstring(client.get(url.removeprefix("http://localhost")).data)
        listed += [u.findtext(f"{SM}loc") for u in part.iter(f"{SM}url")]
    assert listed == every
    assert client.get(f"/sitemap-{len(files) + 1}.xml").status_code == 404


def test_a_kind_has_its_class_page(client, dataset) -> None:  # type: ignore[no-untyped-def]
    kind = f"{dataset.settings.base_iri}id/concept/organisation-kind/funder"
    text = html(client, f"/browse?class={kind}")
    assert "Funders" in text and "Helmholtz" in text and "SESAME" not in text
