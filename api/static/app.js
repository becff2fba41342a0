// protocol-kb: progressive enhancement only. Every page works without this file; it adds the
// pinned collection (kept in this browser), copy and print buttons.
(function () {
  "use strict";
  var KEY = "protocol-kb:pins";
  var MAX = 100;

  function load() {
    try {
      var ids = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(ids) ? ids.filter(function (x) { return typeof x === "string"; }) : [];
    } catch (e) {
      return [];
    }
  }
  function save(ids) {
    try { window.localStorage.setItem(KEY, JSON.stringify(ids.slice(0, MAX))); } catch (e) { /* storage off */ }
    refresh();
  }
  function pinsUrl(ids) {
    return ids.length ? "/pins?ids=" + encodeURIComponent(ids.join(",")) : "/pins";
  }
  function refresh() {
    var ids = load();
    document.querySelectorAll("[data-pins-link]").forEach(function (a) { a.href = pinsUrl(ids); });
    document.querySelectorAll("[data-pins-count]").forEach(function (s) { s.textContent = ids.length ? "(" + ids.length + ")" : ""; });
    document.querySelectorAll("button[data-pin]").forEach(function (b) {
      b.hidden = false;
      b.setAttribute("aria-pressed", ids.indexOf(b.getAttribute("data-pin")) >= 0 ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var pin = target.closest("button[data-pin]");
    if (pin) {
      // Pins are keyed by provision id and a provision may have several buttons (one per row it
      // supports): a click does what its button says (Pin or Unpin), never a blind toggle of the
      // stored list, and then every button for that provision shows the new state.
      var id = pin.getAttribute("data-pin");
      var wanted = pin.getAttribute("aria-pressed") !== "true";
      var ids = load();
      var at = ids.indexOf(id);
      if (wanted && at < 0 && ids.length < MAX) ids.push(id);
      if (!wanted && at >= 0) ids.splice(at, 1);
      save(ids);
      return;
    }
    var copy = target.closest("button[data-copy]");
    if (copy) {
      var field = document.getElementById(copy.getAttribute("data-copy"));
      var status = document.querySelector("[data-copy-status]");
      if (!field) return;
      field.select();
      var done = function () { if (status) status.textContent = status.getAttribute("data-copied") || "Copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
      return;
    }
    if (target.closest("button[data-print]")) { window.print(); return; }
    if (target.closest("button[data-pins-adopt]")) {
      var page = document.querySelector("[data-pins-page]");
      var shared = page ? page.getAttribute("data-ids").split(",").filter(Boolean) : [];
      var mine = load();
      shared.forEach(function (x) { if (mine.indexOf(x) < 0) mine.push(x); });
      save(mine);
      return;
    }
    if (target.closest("button[data-pins-clear]")) { save([]); window.location.href = "/pins"; }
  });

  function pinsPage() {
    var page = document.querySelector("[data-pins-page]");
    if (!page) return;
    var shown = page.getAttribute("data-ids");
    var mine = load();
    // /pins without ids shows this browser's own pins: move to the URL that holds them.
    if (!shown && mine.length) { window.location.replace(pinsUrl(mine)); return; }
    document.querySelectorAll("[data-pins-adopt], [data-pins-clear]").forEach(function (b) {
      var isMine = shown === mine.join(",");
      b.hidden = b.hasAttribute("data-pins-adopt") ? isMine : !isMine;
    });
  }

  // Drafting page: refresh the preview while options change (the form still works without this).
  function draftPage() {
    var form = document.querySelector("[data-draft-form]");
    var preview = document.querySelector("[data-draft-preview]");
    if (!form || !preview) return;
    var pending = null;
    var latest = 0;
    function refresh() {
      var params = new URLSearchParams(new FormData(form)).toString();
      var ticket = ++latest;
      fetch("/draft/preview?" + params, { headers: { Accept: "text/html" } })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (ticket !== latest) return;  // an older answer arriving late
          preview.innerHTML = html;  // our own server's escaped HTML
          preview.querySelectorAll("button[data-print]").forEach(function (b) { b.hidden = false; });
          var notes = preview.querySelector("template[data-choice-notes]");
          if (notes) {
            notes.content.querySelectorAll("[data-choice-note]").forEach(function (fresh) {
              var shown = form.querySelector('[data-choice-note="' + fresh.getAttribute("data-choice-note") + '"]');
              if (shown) { shown.textContent = fresh.textContent; shown.className = fresh.className; }
            });
          }
          window.history.replaceState(null, "", "/draft?" + params);
        })
        .catch(function () { /* keep the last preview */ });
    }
    form.addEventListener("change", function () { window.clearTimeout(pending); pending = window.setTimeout(refresh, 150); });
    form.addEventListener("input", function (e) {
      if (e.target && e.target.name === "name") { window.clearTimeout(pending); pending = window.setTimeout(refresh, 400); }
    });
  }

  // Type-ahead for the find-your-county box: the place names arrive once, on first focus.
  // Without this script the form still works: the server matches what was typed.
  function placesBox() {
    document.querySelectorAll("input[data-places]").forEach(function (input) {
      var list = document.getElementById(input.getAttribute("list"));
      if (!list) return;
      var loaded = false;
      input.addEventListener("focus", function () {
        if (loaded) return;
        loaded = true;
        fetch(input.getAttribute("data-places"), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (places) {
            var fragment = document.createDocumentFragment();
            places.forEach(function (place) {
              var option = document.createElement("option");
              option.value = place[1];
              fragment.appendChild(option);
            });
            list.appendChild(fragment);
          })
          .catch(function () { loaded = false; });
      });
    });
  }

  function init() {
    placesBox();
    document.querySelectorAll("button[data-copy], button[data-print]").forEach(function (b) { b.hidden = false; });
    refresh();
    pinsPage();
    draftPage();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
  window.addEventListener("storage", function (e) { if (e.key === KEY) refresh(); });
})();
