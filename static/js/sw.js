/* The service worker (issue 17), served at /sw.js by kongchuo.offline.service_worker so that it
 * controls the whole site. What it keeps:
 * - the site's own static files (CSS, JS, icons: no personal data), refreshed in the background;
 * - only the pages whose template asks for it with <meta name="kongchuo-offline">: a class
 *   teacher's roll of their own class, "我的劝返案件" and the visit form of a case they work.
 *   Every other page goes to the network only and is never kept.
 * Offline, a kept page is served from the cache; any other page gets a short notice.
 * A response carrying X-Kongchuo-Wipe (an account deactivated) wipes the cache and the outbox;
 * logging out wipes them from the page (offline.js). Writes are never queued here: the page's
 * outbox (IndexedDB, offline.js) sends them, so the user always sees what waits.
 */
/* global workbox */
const VERSION = "1";
const PAGES = "kongchuo-pages";
const ASSETS = "kongchuo-assets-" + VERSION;
const OUTBOX_DB = "kongchuo-offline";
const MARKER = '<meta name="kongchuo-offline"';

importScripts("/static/vendor/workbox/workbox-sw.js");
workbox.setConfig({ modulePathPrefix: "/static/vendor/workbox/", debug: false });

self.skipWaiting();
workbox.core.clientsClaim();

async function wipe(reason) {
  const names = await caches.keys();
  await Promise.all(names.map((name) => caches.delete(name)));
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(OUTBOX_DB);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
  const windows = await self.clients.matchAll({ type: "window" });
  windows.forEach((client) => client.postMessage({ type: "kongchuo-wiped", reason }));
}

// Keep a page only when its template marks it; a redirect (to the login page) is never kept.
const keepMarkedPages = {
  cacheWillUpdate: async ({ response }) => {
    if (!response || response.status !== 200 || response.redirected) return null;
    const text = await response.clone().text();
    return text.includes(MARKER) ? response : null;
  },
  fetchDidSucceed: async ({ response }) => {
    if (response.headers.get("X-Kongchuo-Wipe")) await wipe("deactivated");
    return response;
  },
};

const offlineNotice = () =>
  new Response(
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">' +
      '<title>离线 · 控辍保学台账</title><link rel="stylesheet" href="/static/css/app.css"></head>' +
      '<body><main class="content"><h1>当前没有网络</h1>' +
      '<p data-testid="offline-notice">这个页面没有保存在手机上，恢复网络后再打开。' +
      "离线时可以打开：联网时打开过的今天的考勤、我的劝返案件和劝返记录表。</p>" +
      '<p><a href="/attendance/">考勤</a> · <a href="/returns/?mine=1">我的劝返案件</a></p></main></body></html>',
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } },
  );

const pages = new workbox.strategies.NetworkFirst({
  cacheName: PAGES,
  networkTimeoutSeconds: 8,
  // Pages vary on the session cookie and the language; a page kept from a page's request
  // (kongchuo-keep) must still answer the navigation to it.
  matchOptions: { ignoreVary: true },
  plugins: [keepMarkedPages],
});

workbox.routing.registerRoute(
  ({ request }) => request.mode === "navigate",
  async (options) => {
    try {
      return await pages.handle(options);
    } catch (error) {
      return offlineNotice();
    }
  },
);

workbox.routing.registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith("/static/"),
  new workbox.strategies.StaleWhileRevalidate({ cacheName: ASSETS }),
);

// A page asks for a list of its links to be kept (the visit forms of "我的劝返案件"); each is
// kept only if its template marks it.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "kongchuo-keep" && Array.isArray(data.urls)) {
    const done = data.urls.map((url) => {
      const request = new Request(url, { credentials: "same-origin" });
      // The second promise settles once the page is kept (or found not to be kept).
      return pages.handleAll({ request, event })[1].catch(() => null);
    });
    event.waitUntil(Promise.all(done));
  }
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("kongchuo-assets-") && name !== ASSETS)
            .map((name) => caches.delete(name)),
        ),
      ),
  );
});
