/** What the desktop app is asked to do from its command line. */
export interface DesktopArgs {
  /** Fullscreen, locked to the app, with the UI's kiosk layout. */
  kiosk: boolean
  /** Run the built-in simulated filling line (on by default, as for `edgetwin serve`). */
  sim: boolean
}

/**
 * Reads the app's own flags from its argv. Electron's argv also holds the executable, the main
 * script when unpackaged, and switches Chromium or a desktop launcher add, so unknown entries are
 * ignored rather than rejected.
 */
export function parseDesktopArgs(argv: readonly string[]): DesktopArgs {
  return {
    kiosk: argv.includes('--kiosk'),
    sim: !argv.includes('--no-sim'),
  }
}
