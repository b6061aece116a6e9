import { existsSync } from 'node:fs'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'

/** Serves the built UI (dist/ui) at `/`; without a build, a page that says how to make one. */
export function uiRoutes(uiDir: string | undefined): FastifyPluginAsync {
  return async (app) => {
    // The UI's files are public (the login page is one of them) and cacheable; declared on each of
    // its routes, as every public route is (the access decision denies what is not declared).
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true, static: true }
    })
    if (uiDir && existsSync(`${uiDir}/index.html`)) {
      // One route per built file (wildcard: false), so unknown paths still get the JSON 404.
      await app.register(fastifyStatic, {
        root: uiDir,
        wildcard: false,
        index: ['index.html'],
        cacheControl: false,
      })
      return
    }
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>EdgeTwin</title><h1>EdgeTwin</h1><p>The core is running, but the UI is not built: run <code>npm run build</code>. API: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a></p>',
        ),
    )
  }
}
