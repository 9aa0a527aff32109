// Kiln's page script: redraw the configurator after each change without a
// page load (without it the forms still work: they submit and the server
// renders the same page), and the Print button of the label pages.
(function () {
  // The console's Gantt chart follows the plan: asked for twice a second,
  // redrawn only when it changed (the server answers 304 otherwise).
  var box = document.querySelector("[data-live-gantt]");
  if (!box || !window.fetch) return;
  var etag = box.dataset.etag;
  setInterval(function () {
    if (document.hidden) return;
    var headers = { Accept: "image/svg+xml" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(box.dataset.liveGantt, { headers: headers, credentials: "same-origin" })
      .then(function (r) {
        if (r.status !== 200) return null;
        etag = r.headers.get("ETag");
        return r.text();
      })
      .then(function (svg) { if (svg) box.innerHTML = svg; })
      .catch(function () {});
  }, 500);
})();
(function () {
  var print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
(function () {
  var form = document.getElementById("configure");
  if (!form) return;
  var seq = 0;
  var replacing = false;
  function refresh(ev) {
    var panel = document.getElementById("configurator");
    // Give focus back to the radio the user just chose; a text field has
    // already lost focus when its change fires.
    var t = ev && ev.target;
    var focus = t && t.type === "radio" ? [t.name, t.value] : null;
    var query = new URLSearchParams(new FormData(form)).toString();
    var mine = ++seq;
    panel.classList.add("loading");
    panel.setAttribute("aria-busy", "true");
    fetch(form.dataset.panel + "?" + query, { headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine !== seq) return;
        // Removing a focused field fires its `change` while the panel is
        // half replaced, when the form holds none of the choices: that
        // event is ours, not the shopper's, and must not redraw.
        replacing = true;
        try {
          panel.innerHTML = html;
        } finally {
          replacing = false;
        }
        history.replaceState(null, "", form.action + "?" + query);
        done(panel);
        // Screen readers hear the new price and date (the region outlives redraws).
        var summary = panel.querySelector("[data-announce]");
        if (announce && summary) announce.textContent = summary.dataset.announce;
        if (focus) {
          var el = panel.querySelector('[name="' + CSS.escape(focus[0]) + '"][value="' + CSS.escape(focus[1]) + '"]') ||
                   panel.querySelector('[name="' + CSS.escape(focus[0]) + '"]');
          if (el) el.focus();
        }
      })
      .catch(function () {
        if (mine !== seq) return;
        done(panel);
        if (announce) announce.textContent = "The price and delivery date could not be updated. Check your connection and choose again.";
      });
  }
  var announce = document.getElementById("announce");
  function done(panel) {
    panel.classList.remove("loading");
    panel.removeAttribute("aria-busy");
  }
  form.addEventListener("change", function (ev) {
    if (!replacing && ev.target.isConnected) refresh(ev);
  });
  // Enter in a field redraws; otherwise it would press the first button of
  // the form, which adds to the cart.
  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.tagName === "INPUT" && ev.target.type !== "radio") {
      ev.preventDefault();
      refresh(ev);
    }
  });
})();
