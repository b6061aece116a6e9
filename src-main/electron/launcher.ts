import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * `npm start` (bin/start.js): the desktop app where the Electron runtime is installed, otherwise
 * `edgetwin serve` with the simulator (DESIGN §3.1). Plain Node: it must run where Electron is not.
 */

export interface RuntimeProbe {
  /** node_modules/electron, or undefined when the package is not installed at all (production install). */
  electronDir: string | undefined
  platform: NodeJS.Platform
  env: NodeJS.ProcessEnv
  exists: (file: string) => boolean
  readFile: (file: string) => string | undefined
}

/** The executable the electron package's install script unpacks for each platform (its getPlatformPath). */
function defaultExecutable(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron'
  if (platform === 'win32') return 'electron.exe'
  return 'electron'
}

/**
 * The Electron executable if it is really there, else undefined. This reads what the electron
 * package's index.js reads (path.txt, dist/, ELECTRON_OVERRIDE_DIST_PATH) instead of calling
 * `require('electron')`, which tries to download the runtime when it is missing.
 */
export function findElectronBinary(probe: RuntimeProbe): string | undefined {
  const { electronDir, platform, env, exists, readFile } = probe
  if (!electronDir) return undefined
  const executable = readFile(path.join(electronDir, 'path.txt'))?.trim() || defaultExecutable(platform)
  const override = env.ELECTRON_OVERRIDE_DIST_PATH
  const binary = override ? path.join(override, executable) : path.join(electronDir, 'dist', executable)
  return exists(binary) ? binary : undefined
}

export interface ServeInvocation {
  /** Arguments for `edgetwin serve`. */
  serve: string[]
  /** Desktop-only flags that a headless core cannot honour, to say so. */
  ignored: string[]
}

/** Desktop-only flags: the window's, not the core's. */
const DESKTOP_ONLY = new Set(['--kiosk'])

/** The headless fallback: the app's arguments as `edgetwin serve` arguments (the simulator stays on unless --no-sim). */
export function serveInvocation(args: readonly string[]): ServeInvocation {
  return {
    serve: args.filter((arg) => !DESKTOP_ONLY.has(arg)),
    ignored: args.filter((arg) => DESKTOP_ONLY.has(arg)),
  }
}

export interface LaunchPaths {
  /** The checkout (or installed package) root, holding bin/ and dist/. */
  root: string
}

function localProbe(root: string): RuntimeProbe {
  let electronDir: string | undefined
  try {
    electronDir = path.dirname(
      createRequire(path.join(root, 'package.json')).resolve('electron/package.json'),
    )
  } catch {
    electronDir = undefined
  }
  return {
    electronDir,
    platform: process.platform,
    env: process.env,
    exists: existsSync,
    readFile: (file) => {
      try {
        return readFileSync(file, 'utf8')
      } catch {
        return undefined
      }
    },
  }
}

function runElectron(binary: string, mainScript: string, args: readonly string[]): void {
  // ELECTRON_RUN_AS_NODE in the caller's environment would make the binary a plain Node.
  const { ELECTRON_RUN_AS_NODE: _runAsNode, ...env } = process.env
  const child = spawn(binary, [mainScript, ...args], { stdio: 'inherit', env, windowsHide: false })
  // Electron quits cleanly on these signals (its before-quit stops the core), so pass them on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal)
    })
  }
  child.on('error', (error) => {
    process.stderr.write(`edgetwin: could not start Electron: ${error.message}\n`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

async function runHeadless(root: string, args: readonly string[]): Promise<void> {
  const { serve, ignored } = serveInvocation(args)
  process.stderr.write(
    'edgetwin: the Electron desktop runtime is not installed (node_modules/electron/dist is missing), ' +
      'so the core runs headless: open the login link it prints below in a browser.\n',
  )
  if (ignored.includes('--kiosk'))
    process.stderr.write(
      'edgetwin: --kiosk is for the desktop window; in a browser, turn on kiosk mode in the settings or open the app with ?kiosk=1.\n',
    )
  const cli = path.join(root, 'dist', 'cli.js')
  if (!existsSync(cli)) {
    process.stderr.write('edgetwin: dist/cli.js is missing; run `npm run build` first\n')
    process.exit(1)
  }
  // The CLI reads its command line when it loads; running it in this process keeps signals
  // (SIGINT/SIGTERM → clean stop) and the exit code exactly those of `edgetwin serve`.
  process.argv = [process.argv[0] ?? process.execPath, cli, 'serve', ...serve]
  await import(pathToFileURL(cli).href)
}

export async function launch(args: readonly string[], { root }: LaunchPaths): Promise<void> {
  const binary = findElectronBinary(localProbe(root))
  const mainScript = path.join(root, 'dist', 'electron', 'main.cjs')
  if (!binary) return runHeadless(root, args)
  if (!existsSync(mainScript)) {
    process.stderr.write('edgetwin: dist/electron/main.cjs is missing; run `npm run build` first\n')
    process.exit(1)
  }
  runElectron(binary, mainScript, args)
}
