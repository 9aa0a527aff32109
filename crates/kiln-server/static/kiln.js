// Kiln's page script: redraw the configurator after each change without a
// page load (without it the forms still work: they submit and the server
// renders the same page), re-rate the checkout's delivery as the country or
// postal code changes, and the Print button of the label pages.
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
(function () {
  // The checkout: shipping, the dates and the total follow the country and
  // postal code as they change (without the script, "Update delivery" posts
  // the form and the page comes back re-rated).
  var form = document.querySelector("form[data-rerate]");
  if (!form || !window.fetch) return;
  var button = form.querySelector("[data-rerate-button]");
  // Not needed now; gone, so that Enter in a field places the order.
  if (button) button.remove();
  var announce = document.getElementById("announce");
  var seq = 0;
  function describe() {
    var country = form.elements.country;
    var ids = [];
    if (document.getElementById("e-country")) ids.push("e-country");
    var note = document.getElementById("n-country");
    if (note && note.textContent.trim()) ids.push("n-country");
    if (ids.length) country.setAttribute("aria-describedby", ids.join(" "));
    else country.removeAttribute("aria-describedby");
  }
  function done(items) {
    if (!items) return;
    items.classList.remove("loading");
    items.removeAttribute("aria-busy");
  }
  function refresh() {
    var query = new URLSearchParams();
    query.set("country", form.elements.country.value);
    query.set("postal_code", form.elements.postal_code.value);
    var mine = ++seq;
    var items = document.getElementById("checkout-items");
    if (items) {
      items.classList.add("loading");
      items.setAttribute("aria-busy", "true");
    }
    fetch(form.dataset.rerate + "?" + query.toString(), { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine !== seq) return;
        var got = document.createElement("template");
        got.innerHTML = html;
        ["checkout-items", "n-country"].forEach(function (id) {
          var now = document.getElementById(id);
          var next = got.content.getElementById(id);
          if (now && next) now.replaceWith(next);
        });
        describe();
        var fresh = document.getElementById("checkout-items");
        if (announce && fresh) announce.textContent = fresh.dataset.announce;
      })
      .catch(function () {
        if (mine !== seq) return;
        done(document.getElementById("checkout-items"));
        if (announce) announce.textContent = "Shipping and the delivery date could not be updated. Check your connection and choose the country again.";
      });
  }
  form.addEventListener("change", function (ev) {
    var name = ev.target.name;
    if (name === "country") {
      // An error about the country chosen before no longer holds.
      var stale = document.getElementById("e-country");
      if (stale) stale.remove();
      ev.target.removeAttribute("aria-invalid");
    }
    if (name === "country" || name === "postal_code") refresh();
  });
})();
