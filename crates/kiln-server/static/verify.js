// Kiln's passport check (/shop/{brand}/verify): verifies a unit's passport,
// or the signed summary its label's QR code carries, here in the browser
// with WebCrypto (Ed25519) against the brand's public keys, which the page
// carries. A refusal says why in the words of kiln_app::passport::VerifyError.
// A service worker keeps the page, this script and the keys, so the check
// works with no network once the page has been opened; online, the keys are
// fetched afresh (a rotated or revoked key counts at once).
(function () {
  "use strict";
  const form = document.getElementById("verify");
  if (!form) return;
  const BRAND = form.dataset.brand;
  const BRAND_NAME = form.dataset.brandName;
  const SHOP = `/shop/${encodeURIComponent(BRAND)}`;
  const KEYS_URL = `/api/v1/brands/${encodeURIComponent(BRAND)}/passport-keys`;
  const text = document.getElementById("passport-text");
  const result = document.getElementById("result");
  const status = document.getElementById("keys-status");
  const video = document.getElementById("camera");
  const scanAction = document.getElementById("scan-action");
  const scanButton = document.getElementById("scan");
  const photoField = document.getElementById("photo-field");
  const photo = document.getElementById("photo");
  const noPhoto = document.getElementById("no-photo");

  // ------------------------------------------------------------ the keys

  // What the page came with; replaced by a fresher set when one comes.
  let keysText = document.getElementById("passport-keys").textContent;
  const keysReady = refreshKeys();

  async function refreshKeys() {
    const pageTime = status.dataset.fetched;
    let response;
    try {
      response = await fetch(KEYS_URL, { headers: { Accept: "application/json" } });
    } catch (e) {
      sayKeys(pageTime, "offline");
      return;
    }
    try {
      if (!response.ok) throw new Error(`answered ${response.status}`);
      const body = await response.text();
      JSON.parse(body);
      keysText = body;
    } catch (e) {
      sayKeys(pageTime, "they could not be fetched again");
      return;
    }
    // From the service worker's copy when the network failed: how old it is.
    if (response.headers.get("X-Kiln-Offline") === "1") {
      sayKeys(response.headers.get("X-Kiln-Fetched-At") || pageTime, "offline");
    } else {
      sayKeys(new Date().toISOString(), null);
    }
  }

  function sayKeys(at, why) {
    let count = 0;
    try {
      count = JSON.parse(keysText).keys.length;
    } catch (e) {
      // Said when a passport is checked.
    }
    const time = el("time", { datetime: at }, minute(at));
    const before = count
      ? `Checked against the ${count} public key${count === 1 ? "" : "s"} of ${BRAND_NAME}`
      : `Checked against the public keys of ${BRAND_NAME} (none yet)`;
    status.replaceChildren(
      ...(why ? [`${before}: keys as of `, time, `; ${why}.`] : [`${before}, fetched `, time, "."]),
    );
  }

  // ------------------------------------------------------------ verifying

  /** Why a passport is not to be trusted: the message is shown. */
  class Refused extends Error {}

  const MALFORMED = "not a compact JWS (header.payload.signature in base64url)";
  const NO_ED25519 =
    "this browser cannot check Ed25519 signatures (a recent browser can, on a page opened over HTTPS)";
  const badKeys = (why) => new Refused(`the key set is not a JWK set of Ed25519 keys: ${why}`);

  function base64url(s) {
    if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Refused(MALFORMED);
    const binary = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (s.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function json(bytes) {
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      throw new Refused(MALFORMED);
    }
  }

  const str = (o, k) => (o && typeof o === "object" && typeof o[k] === "string" ? o[k] : "");

  /**
   * Checks a compact JWS against a JWK set (its JSON), as
   * kiln_app::passport::verify does: EdDSA over Ed25519, a `kid` the set
   * holds, and the signature. The payload and the key's id when all holds.
   */
  async function verify(jws, jwks) {
    let set;
    try {
      set = JSON.parse(jwks);
    } catch (e) {
      throw badKeys(e.message);
    }
    const keys = set && Array.isArray(set.keys) ? set.keys : null;
    if (!keys) throw badKeys("no `keys` array");
    const parts = jws.trim().split(".");
    if (parts.length !== 3) throw new Refused(MALFORMED);
    const [h, p, s] = parts;
    const header = json(base64url(h));
    const alg = str(header, "alg");
    if (alg !== "EdDSA" && alg !== "Ed25519") throw new Refused(`the JWS uses \`${alg}\`, not EdDSA (Ed25519)`);
    const kid = str(header, "kid");
    const jwk = keys.find((k) => k && k.kid === kid && k.kty === "OKP" && k.crv === "Ed25519");
    if (!jwk) throw new Refused(`signed with key \`${kid}\`, which is not among the brand's keys (unknown or revoked)`);
    if (typeof jwk.x !== "string" || !/^[A-Za-z0-9_-]+$/.test(jwk.x)) throw badKeys(`key \`${kid}\` has no base64url \`x\``);
    const signature = base64url(s);
    if (!(window.crypto && crypto.subtle)) throw new Refused(NO_ED25519);
    let key;
    try {
      key = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      if (e && e.name === "NotSupportedError") throw new Refused(NO_ED25519);
      throw badKeys(`key \`${kid}\` is not an Ed25519 public key`);
    }
    const data = new TextEncoder().encode(`${h}.${p}`);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, data))) {
      throw new Refused("the signature does not match: the passport was changed or not signed by that key");
    }
    return { payload: json(base64url(p)), kid };
  }

  /** `%XX` decoded, as kiln_app::passport::find_jws does before it looks. */
  function percentDecode(s) {
    const b = new TextEncoder().encode(s);
    const out = [];
    for (let i = 0; i < b.length; ) {
      const hex = String.fromCharCode(b[i + 1], b[i + 2]);
      if (b[i] === 37 && i + 2 < b.length && /^[0-9a-fA-F]{2}$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 3;
      } else {
        out.push(b[i]);
        i += 1;
      }
    }
    return new TextDecoder().decode(new Uint8Array(out));
  }

  /** The first compact JWS in a text (a label's link, say). */
  function findJws(s) {
    return percentDecode(s).split(/[^A-Za-z0-9_.-]/).find((t) => t.startsWith("eyJ") && t.split(".").length === 3) || null;
  }

  let checks = 0;
  async function check() {
    const raw = text.value.trim();
    if (!raw) {
      say(el("p", { class: "alert" }, "Paste a passport, a label's link or its code first."));
      text.focus();
      return;
    }
    const mine = ++checks;
    // Fresher keys if they come soon; else the ones the page came with.
    await Promise.race([keysReady, new Promise((done) => setTimeout(done, 3000))]);
    let shown;
    try {
      const { payload, kid } = await verify(findJws(raw) || raw, keysText);
      const brand = str(payload, "brand");
      if (brand !== BRAND) {
        throw new Refused(brand ? `the passport is for the brand \`${brand}\`, not \`${BRAND}\`` : "the passport names no brand");
      }
      // A label's link names its unit: the code it carries must be that unit's.
      const named = (percentDecode(raw).match(/\/21\/([^/?#\s]+)/) || [])[1];
      if (named && named !== str(payload, "serial")) {
        throw new Refused(`the code is signed, but for unit \`${str(payload, "serial")}\`, not the link's \`${named}\``);
      }
      shown = genuine(payload, kid);
    } catch (e) {
      shown = notVerified(e instanceof Refused ? e.message : `the check failed (${(e && e.message) || e})`);
    }
    if (mine === checks) say(shown);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });

  // ------------------------------------------------------------ what it says

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) if (c != null) e.append(c);
    return e;
  }

  /** A message with its `quoted` parts as code. */
  const withCode = (message) => message.split("`").map((part, i) => (i % 2 ? el("code", {}, part) : part));

  function minute(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  }

  const day = (v) => (typeof v === "string" ? v.slice(0, 10) : "");
  const count = (list, one) => {
    const n = Array.isArray(list) ? list.length : 0;
    return `${n} ${one}${n === 1 ? "" : "s"}`;
  };

  function say(node) {
    result.replaceChildren(node);
  }

  function notVerified(reason) {
    const end = /[.!?]$/.test(reason) ? "" : ".";
    return el("p", { class: "alert" }, el("strong", {}, "Not verified:"), " ", ...withCode(reason), end);
  }

  function genuine(payload, kid) {
    const serial = str(payload, "serial");
    const full = payload.type === "kiln.passport";
    const configuration = payload.configuration && typeof payload.configuration === "object"
      ? Object.entries(payload.configuration).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ")
      : "";
    const rows = [["Serial", el("code", {}, serial)]];
    if (full) rows.push(["Product", str(payload.product, "name")]);
    rows.push(
      ["SKU", el("code", {}, str(payload, "sku"))],
      ["Configuration", configuration],
      ["Made", day(payload.made_at)],
      ["Warranty", payload.warranty_until ? `until ${day(payload.warranty_until)}` : "none"],
    );
    if (full) rows.push(["Made of", count(payload.materials, "material")], ["Made by", count(payload.operations, "operation")]);
    const facts = el("dl", {});
    for (const [term, value] of rows) facts.append(el("dt", {}, term), el("dd", {}, value));
    return el(
      "section",
      { class: "summary", "aria-labelledby": "verdict" },
      el("h2", { id: "verdict" }, `Genuine: signed by ${BRAND_NAME} with key `, el("code", {}, kid)),
      facts,
      full ? null : el("p", { class: "muted" }, "This is the label's signed summary; what the unit is made of and by is in its full passport."),
      el(
        "p",
        {},
        el("a", { href: `${SHOP}/21/${encodeURIComponent(serial)}` }, "Passport of unit ", el("code", {}, serial)),
        " ",
        el("small", { class: "muted" }, "(needs the network)"),
      ),
    );
  }

  // ------------------------------------------------------------ camera and photos

  let detector = null;
  let stream = null;

  (async () => {
    try {
      if (!("BarcodeDetector" in window)) throw new Error("no BarcodeDetector");
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!formats.includes("qr_code")) throw new Error("no QR codes");
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (e) {
      noPhoto.hidden = false;
      return;
    }
    photoField.hidden = false;
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) scanAction.hidden = false;
  })();

  function stopCamera() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    scanButton.textContent = "Scan the label";
  }

  /** A code read: in the field, and checked. */
  function read(value) {
    text.value = value;
    check();
  }

  scanButton.addEventListener("click", async () => {
    if (stream) {
      stopCamera();
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      const why = e && e.name === "NotAllowedError" ? " (not allowed)" : "";
      say(el("p", { class: "alert" }, `The camera did not open${why}: paste the label's link or choose a photo instead.`));
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    scanButton.textContent = "Stop scanning";
    try {
      await video.play();
    } catch (e) {
      // It shows the first frame anyway; detection goes on.
    }
    look();
  });

  async function look() {
    if (!stream) return;
    try {
      const codes = video.readyState >= 2 ? await detector.detect(video) : [];
      const code = codes.find((c) => c.rawValue);
      if (code && stream) {
        stopCamera();
        read(code.rawValue);
        return;
      }
    } catch (e) {
      // A frame that could not be read: try the next.
    }
    setTimeout(look, 250);
  }

  window.addEventListener("pagehide", stopCamera);

  photo.addEventListener("change", async () => {
    const file = photo.files && photo.files[0];
    if (!file || !detector) return;
    let codes = [];
    try {
      const image = await createImageBitmap(file);
      codes = await detector.detect(image);
      image.close();
    } catch (e) {
      // Not a picture this browser reads: said below.
    }
    const code = codes.find((c) => c.rawValue);
    if (code) read(code.rawValue);
    else say(el("p", { class: "alert" }, "No QR code found in that picture: try a sharper one, or paste the label's link."));
  });

  // ------------------------------------------------------------ offline

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(`${SHOP}/verify-sw.js`, { scope: `${SHOP}/verify` }).catch(() => {
      // No offline copy (a private window, say): the page still checks while online.
    });
  }
})();
