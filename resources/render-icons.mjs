// Renders icon.svg to the PNGs electron-builder packs (icon.png for the macOS and Windows icons it
// derives, icons/NxN.png for Linux) with Debian's Chromium: `node resources/render-icons.mjs`.
import { mkdirSync, readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'

const here = new URL('.', import.meta.url)
// Inlined: a page set with setContent may not load file: URLs.
const svg = readFileSync(new URL('icon.svg', here), 'utf8')
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
})
try {
  const page = await browser.newPage()
  mkdirSync(new URL('icons/', here), { recursive: true })
  const render = async (size, file) => {
    await page.setViewportSize({ width: size, height: size })
    await page.setContent(
      `<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`,
    )
    await page.screenshot({ path: new URL(file, here).pathname, omitBackground: true })
  }
  await render(1024, 'icon.png')
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) await render(size, `icons/${size}x${size}.png`)
} finally {
  await browser.close()
}
