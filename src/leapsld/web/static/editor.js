// The query page: YASGUI on this server's endpoint only (no endpoint catalogue, no
// autocompleter that asks another server), results linked to this server's pages, the
// dataset's example queries one click away, and a download link per results format.
(function () {
  "use strict";
  var holder = document.getElementById("editor");
  if (!holder || typeof window.Yasgui === "undefined") return; // the plain form stays
  var endpoint = holder.dataset.endpoint;
  var base = holder.dataset.base;
  var origin = holder.dataset.origin;
  var prefixes = JSON.parse(holder.dataset.prefixes || "{}");
  var textarea = document.getElementById("query-text");
  var initial = textarea ? textarea.value : "";
  var problem = document.getElementById("query-error");
  var Yasgui = window.Yasgui;

  Yasgui.Yasr.plugins.table.defaults.openIriInNewWindow = false;
  holder.textContent = "";
  var yasgui = new Yasgui(holder, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    persistenceId: null,
    populateFromUrl: false,
    autofocus: false,
    yasqe: { autocompleters: ["variables", "prefixes"], value: initial },
    // results name IRIs by the dataset's prefixes (id:org/esrf), as its documents do
    yasr: { defaultPlugin: "table", pluginOrder: ["table", "response"], persistenceId: null, prefixes: prefixes }
  });
  window.yasgui = yasgui;
  var tab = yasgui.getTab();
  tab.setQuery(initial);

  function local(href) {
    if (href && href.indexOf(base) === 0) {
      var rest = href.slice(base.length);
      return origin + "/" + (rest.indexOf("id/") === 0 ? "doc/" + rest.slice(3) : rest);
    }
    return href;
  }

  function relink(root) {
    var links = root.querySelectorAll("a.iri");
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      a.setAttribute("href", local(a.getAttribute("href")));
      a.removeAttribute("target");
    }
  }

  function downloads() {
    var text = tab.getQuery();
    var links = document.querySelectorAll("#download-links a[data-format]");
    for (var i = 0; i < links.length; i++) {
      links[i].href = endpoint + "?query=" + encodeURIComponent(text) + "&format=" + links[i].dataset.format;
    }
  }

  var yasr = tab.getYasr();
  yasr.on("drawn", function () { relink(yasr.rootEl); });
  // DataTables redraws a page of rows at a time: relink every page as it appears
  new MutationObserver(function () { relink(yasr.rootEl); }).observe(yasr.rootEl, { childList: true, subtree: true });
  tab.getYasqe().on("change", downloads);
  downloads();

  // The editor's parts, named for assistive technology (CodeMirror leaves them unnamed).
  var yasqe = tab.getYasqe();
  yasqe.getInputField().setAttribute("aria-label", "SPARQL query");
  var scroller = holder.querySelector(".CodeMirror-scroll");
  if (scroller) scroller.setAttribute("tabindex", "0");

  yasqe.on("queryResponse", function (editor, response) {
    if (response instanceof Error) {
      var text = (response.message || "").trim();
      try { text = JSON.parse(text).detail || text; } catch (e) { /* a plain-text error */ }
      problem.textContent = "The query was not run: " + text;
      problem.hidden = false;
    } else {
      problem.hidden = true;
      problem.textContent = "";
    }
  });

  var examples = document.querySelectorAll("a.example");
  for (var i = 0; i < examples.length; i++) {
    examples[i].addEventListener("click", function (event) {
      event.preventDefault();
      tab.setQuery(this.dataset.query);
      downloads();
      tab.getYasqe().query();
    });
  }
})();
