#!/usr/bin/env node
// Entry point of `npx edgetwin`: runs the bundled CLI built by `npm run build` (also run by `npm ci`).
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('edgetwin: dist/cli.js is missing; run `npm run build` first\n')
  process.exit(1)
}
await import(cli.href)
