// EdgeTwin's service worker: keeps the UI's own files so that a page opened, reloaded or switching
// tab while the core is down still works, and answers a page load that cannot reach the core with a
// small page that waits for it. The build (vite.config.ts) fills in ASSETS and the version, so each build is a new
// worker that replaces the old files. API answers are never touched: they hold live data and need
// the session cookie, so they always go to the core (and fail plainly when it is away).

const ASSETS = '__ASSETS__'
const WAITING_PAGE = '/waiting.html'
const CACHE = `edgetwin-ui-${'__VERSION__'}`
const KEEP = [WAITING_PAGE, '/waiting.js', ...ASSETS]

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(KEEP))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  const url = new URL(request.url)
  if (request.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/api/')) return
  if (request.mode === 'navigate') {
    // Always the core's page when it answers (a new version shows at once); the waiting page when not.
    event.respondWith(fetch(request).catch(() => caches.match(WAITING_PAGE)))
    return
  }
  if (url.pathname.startsWith('/assets/') || KEEP.includes(url.pathname)) {
    // Built files are named by their content, and the waiting page's belong to this build: a kept
    // copy is always the right one.
    event.respondWith(
      caches.match(request, { ignoreSearch: true }).then(
        (kept) =>
          kept ??
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone()
              void caches.open(CACHE).then((cache) => cache.put(request, copy))
            }
            return response
          }),
      ),
    )
  }
})
