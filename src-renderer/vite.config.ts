import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

// The UI bundle, served by the core at `/` and loaded by the desktop window.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte()],
  build: {
    outDir: '../dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    // The core serves these from disk on localhost: no need for inlined assets in the HTML.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
})
