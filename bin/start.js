#!/usr/bin/env node
// `npm start`: the desktop app where the Electron runtime is installed, otherwise `edgetwin serve`
// with the simulator (src-main/electron/launcher.ts, built by `npm run build`).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const launcher = new URL('../dist/electron/launcher.js', import.meta.url)
if (!existsSync(launcher)) {
  process.stderr.write('edgetwin: dist/electron/launcher.js is missing; run `npm run build` first\n')
  process.exit(1)
}
const { launch } = await import(launcher.href)
await launch(process.argv.slice(2), { root: fileURLToPath(new URL('..', import.meta.url)) })
