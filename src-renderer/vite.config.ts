import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig, type Plugin } from 'vite'

/**
 * Writes sw.js from service-worker.js with the list of this build's files, so the service worker
 * keeps every chunk (a tab opened while the core restarts still loads) and each build replaces it.
 */
function serviceWorker(): Plugin {
  return {
    name: 'edgetwin-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const assets = Object.keys(bundle)
        .filter((name) => name.startsWith('assets/'))
        .sort()
        .map((name) => `/${name}`)
      const template = readFileSync(join(import.meta.dirname, 'service-worker.js'), 'utf8')
      // The waiting page is not renamed by content: its text counts in the version too.
      const hash = createHash('sha256').update(assets.join('\n'))
      for (const file of ['waiting.html', 'waiting.js'])
        hash.update(readFileSync(join(import.meta.dirname, 'public', file)))
      const version = hash.digest('hex').slice(0, 12)
      const source = template
        .replace("'__ASSETS__'", JSON.stringify(assets))
        .replace("'__VERSION__'", JSON.stringify(version))
      this.emitFile({ type: 'asset', fileName: 'sw.js', source })
    },
  }
}

// The UI bundle, served by the core at `/` and loaded by the desktop window.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte(), serviceWorker()],
  build: {
    outDir: '../dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    // The core serves these from disk on localhost: no need for inlined assets in the HTML.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
})
