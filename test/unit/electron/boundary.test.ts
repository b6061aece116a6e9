import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '../../..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
}

/** The code of a source file, without its comments (which may name electron freely). */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
}

const IMPORTS_ELECTRON =
  /from\s+['"]electron(\/\w+)?['"]|require\(\s*['"]electron['"]\s*\)|import\(\s*['"]electron['"]\s*\)/

// DESIGN §2: the core runs on plain Node (edgetwin serve, tests) as well as in Electron's utility process.
describe('the Electron boundary', () => {
  it('no core source imports electron', () => {
    const offenders = sources(path.join(ROOT, 'src-main', 'core')).filter((file) =>
      IMPORTS_ELECTRON.test(code(file)),
    )
    expect(offenders).toEqual([])
  })

  it('the launcher and the window policy run in plain Node: no runtime import of electron', () => {
    for (const file of [
      'launcher.ts',
      'window.ts',
      'menu.ts',
      'desktop-args.ts',
      'core-host.ts',
      'core-protocol.ts',
    ]) {
      const text = code(path.join(ROOT, 'src-main', 'electron', file)).replace(/import type [^\n]+\n/g, '')
      expect(text, file).not.toMatch(IMPORTS_ELECTRON)
    }
  })
})
