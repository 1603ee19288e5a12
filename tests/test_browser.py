"""The pages as people use them: Debian's chromium, headless, driven by Playwright, against
the real server on a loopback port. No request may leave the server, no page may log an
error, axe-core finds nothing serious, and every page is photographed into tests/artifacts/
(at 1280 px and at 360 px) for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_server import served

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = Path(__file__).resolve().parent / "assets" / "axe.min.js"
#: What every page but the query editor may load, all its assets together.
BUDGET = 300 * 1024

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with served() as url:
        yield url


class Watch:
    """What a page did: its console errors, uncaught exceptions and requests elsewhere."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []

    def check(self) -> None:
        assert not self.outside, f"requests to other hosts: {self.outside}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _page(
    browser: Any, origin: str, watch: Watch, *, width: int = 1280, bypass_csp: bool = False
) -> Any:
    """A page in a context of its own; ``bypass_csp`` only where axe-core is injected (the
    pages' policy forbids inline script, rightly: the other tests run under it)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=bypass_csp)

    def route(r: Any) -> None:
        if r.request.url.startswith(origin + "/") or r.request.url == origin:
            r.continue_()
        else:
            watch.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "console",
        lambda m: watch.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: watch.errors.append(f"{page.url}: {e}"))
    return page


@pytest.fixture()
def watch() -> Watch:
    return Watch()


@pytest.fixture()
def page(browser: Any, origin: str, watch: Watch) -> Iterator[Any]:
    p = _page(browser, origin, watch)
    yield p
    p.context.close()
    watch.check()


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe(page: Any) -> list[str]:
    """The serious and critical violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def asset_bytes(page: Any) -> int:
    """Bytes of the document and everything it loaded, decoded."""
    return int(
        page.evaluate(
            "() => performance.getEntriesByType('navigation').concat("
            "performance.getEntriesByType('resource'))"
            ".reduce((n, e) => n + (e.decodedBodySize || 0), 0)"
        )
    )


PAGES = {
    "home": "/",
    "resource": "/doc/org/sesame",
    "project": "/doc/project/beats",
    "figure": "/doc/figure/open-sesame-training-hours",
    "browse": "/browse?class=http%3A%2F%2Fwww.w3.org%2Fns%2Forg%23FormalOrganization",
    "search": "/search?q=light",
    "ontology": "/def",
    "void": "/void",
    "shapes": "/shapes",
    "dumps": "/dumps/",
    "query": "/query",
    "not-found": "/doc/org/nowhere",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_is_accessible_small_and_photographed(
    browser: Any, origin: str, name: str
) -> None:
    for width in (1280, 360):
        watch = Watch()
        page = _page(browser, origin, watch, width=width, bypass_csp=width == 1280)
        try:
            response = page.goto(origin + PAGES[name])
            assert response.status == (404 if name == "not-found" else 200)
            page.wait_for_load_state("networkidle")
            if name == "query":
                page.wait_for_selector(".CodeMirror")
            shoot(page, f"{name}-{width}")
            overflow = page.evaluate("() => document.documentElement.scrollWidth")
            assert overflow <= width + 1, f"{name} is {overflow} px wide at {width} px"
            if width == 1280:
                if name != "query":
                    assert asset_bytes(page) <= BUDGET
                assert page.locator("a.skip").count() == 1
                assert page.locator("main#main").count() == 1
                violations = axe(page)
                assert not violations, "\n".join(violations)
        finally:
            page.context.close()
        if name == "not-found":  # the browser logs the 404 of the page itself
            watch.errors = [e for e in watch.errors if "status of 404" not in e]
        watch.check()


def test_click_through_the_network_to_a_facility_a_project_and_a_funder(
    page: Any, origin: str
) -> None:
    page.goto(origin + "/")
    network = page.locator("figure.network .scroll > svg")
    assert network.count() == 1
    for path, title in (
        ("/doc/org/esrf", "ESRF"),
        ("/doc/project/beats", "BEATS"),
        ("/doc/programme/horizon-2020", "Horizon 2020"),
    ):
        link = page.locator(f'figure.network a[href="{path}"]')
        assert link.count() == 1, path
        link.click()
        page.wait_for_url(origin + path)
        assert page.locator("h1").inner_text() == title
        # the page names what it is: a type badge, and schema.org JSON-LD for search engines
        assert page.locator(".types .type").count() >= 1
        assert page.locator('script[type="application/ld+json"]').count() == 1
        page.go_back()
    timeline = page.locator("figure.timeline svg a")
    assert timeline.count() >= 4
    assert "no end stated" in page.locator("figure.timeline").inner_html()


def _results(page: Any) -> Any:
    return page.locator(".yasr table.dataTable tbody tr")


def test_query_page_runs_an_example_and_pages_a_large_result(page: Any, origin: str) -> None:
    page.goto(origin + "/sparql")
    page.wait_for_selector(".CodeMirror")
    page.get_by_role("link", name=re.compile(r"^CQ4")).click()
    page.wait_for_function(
        "() => document.querySelectorAll('.yasr table.dataTable tbody tr').length > 0"
    )
    rows = _results(page)
    assert rows.count() == 8
    # every result links to its page on this server
    first = page.locator(".yasr table.dataTable tbody a.iri").first
    assert first.get_attribute("href").startswith(origin + "/doc/")
    shoot(page, "query-cq4-1280")
    # download links follow the query in the editor, one per results format
    csv = page.locator('#download-links a[data-format="csv"]').get_attribute("href")
    assert "beats" in csv.lower() and csv.startswith(origin + "/sparql?query=")

    page.evaluate(
        "() => { const t = window.yasgui.getTab(); "
        "t.setQuery('SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o'); t.getYasqe().query(); }"
    )
    page.wait_for_function(
        "() => document.querySelectorAll('.yasr table.dataTable tbody tr').length > 8"
    )
    before = _results(page).first.inner_text()
    shown = _results(page).count()
    assert shown < 1000  # a page of rows, not the whole answer
    page.locator(".yasr .dt-paging button.next, .yasr .dt-paging-button.next").first.click()
    page.wait_for_function(
        "(before) => document.querySelector('.yasr table.dataTable tbody tr').innerText !== before",
        arg=before,
    )
    shoot(page, "query-large-1280")


def test_a_malformed_query_shows_its_position_and_keeps_the_editor(
    page: Any, origin: str, watch: Watch
) -> None:
    page.goto(origin + "/sparql")
    page.wait_for_selector(".CodeMirror")
    broken = "SELECT * WHERE { ?s ?p "
    page.evaluate(
        "(q) => { const t = window.yasgui.getTab(); t.setQuery(q); t.getYasqe().query(); }",
        broken,
    )
    error = page.locator("#query-error")
    error.wait_for(state="visible")
    assert "line 1, column" in error.inner_text()
    assert page.locator(".CodeMirror").is_visible()
    assert page.evaluate("() => window.yasgui.getTab().getQuery()") == broken
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1281
    shoot(page, "query-error-1280")
    # the browser logs the 400 as a failed resource, and YASGUI logs its body: expected
    watch.errors = [
        e for e in watch.errors if "status of 400" not in e and "Malformed query" not in e
    ]


def test_search_a_label(page: Any, origin: str) -> None:
    page.goto(origin + "/")
    page.get_by_label("Search labels").fill("ukraine")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/search\?q=ukraine"))
    hits = page.locator("ul.hits li")
    assert hits.count() >= 3
    page.get_by_role("link", name="Light for Ukraine", exact=True).click()
    assert page.locator("h1").inner_text() == "Light for Ukraine"


def test_keyboard_reaches_the_content_first(page: Any, origin: str) -> None:
    page.goto(origin + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#main"
