import { type Browser, chromium } from 'playwright-core'

/**
 * Debian's Chromium, headless, with the flags this machine needs: no sandbox (root), no GPU, and no
 * background connections (the network is closed). Used by the end-to-end tests and the UI bench;
 * `extraArgs` add flags (a host resolver rule for a DNS-rebinding test).
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  })
}
