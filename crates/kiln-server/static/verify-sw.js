// Kiln's passport check, offline: the service worker of `/shop/{brand}/verify`.
// The server puts `const BRAND = "<slug>";` before this file (ui/verify.rs).
const CACHE = `kiln-verify-${BRAND}`;
const PAGE = `/shop/${BRAND}/verify`;
const KEYS = `/api/v1/brands/${BRAND}/passport-keys`;
const KEPT = [PAGE, "/static/verify.js", "/static/kiln.css", "/static/kiln.js", KEYS];
// On a network that answers too slowly, what was kept is better than a wait.
const PATIENCE_MS = 6000;

// A copy of a response, stamped with when it came from the server.
async function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set("X-Kiln-Fetched-At", new Date().toISOString());
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(KEPT.map(async (url) => {
      const response = await fetch(url, { cache: "no-cache" });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      await cache.put(url, await stamped(response));
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !KEPT.includes(url.pathname)) return;
  event.respondWith(networkFirst(request, url.pathname));
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const network = fetch(request);
    network.catch(() => {});
    const late = new Promise((_, fail) => setTimeout(() => fail(new Error("the network is too slow")), PATIENCE_MS));
    const response = await Promise.race([network, late]);
    if (response.ok) await cache.put(key, await stamped(response.clone()));
    return response;
  } catch (error) {
    const kept = await cache.match(key);
    if (!kept) throw error;
    const headers = new Headers(kept.headers);
    headers.set("X-Kiln-Offline", "1");
    return new Response(await kept.blob(), { status: kept.status, statusText: kept.statusText, headers });
  }
}
