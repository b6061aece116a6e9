// biome-ignore-all lint/suspicious/noTemplateCurlyInString: thin-edge.io `${…}` templates in workflows
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAIN, startWorkflowCore, type WorkflowCore } from '../../fixtures/workflows/harness'
import { type StreamServer, startStreamServer } from '../../helpers/stream-server'

// The agent's downloads (software modules, workflow `download` actions, configuration files) are
// streamed to a temporary file and stop at the size system.toml allows: the command fails with the
// limit as its reason, and no partial file is left behind.

const MiB = 1024 ** 2
let t: WorkflowCore
let server: StreamServer
let systemToml: string

beforeAll(async () => {
  server = await startStreamServer()
  t = await startWorkflowCore(({ workflow }) => {
    workflow(
      'fetch_image.toml',
      [
        'operation = "fetch_image"',
        '[init]',
        'action = "download"',
        'input.url = "${.payload.url}"',
        'on_success = "successful"',
      ].join('\n'),
    )
    workflow(
      'send_image.toml',
      [
        'operation = "send_image"',
        '[init]',
        'action = "upload"',
        'input.file = "${.payload.file}"',
        'input.url = "${.payload.url}"',
        'on_success = "successful"',
      ].join('\n'),
    )
  })
  systemToml = path.join(t.dataDir, 'system.toml')
  writeFileSync(systemToml, '[agent]\nmax_download_size = "1 MiB"\nmax_config_size = "64 KiB"\n')
})

afterAll(async () => {
  await t.stop()
  await server.close()
})

/** Every file under the data dir's downloads/, temporary ones included. */
function downloads(): string[] {
  const dir = path.join(t.dataDir, 'downloads')
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    statSync(path.join(dir, f)).isFile(),
  )
}

const install = (name: string, url: string) => ({
  updateList: [{ type: 'file', modules: [{ name, version: '1', url, action: 'install' }] }],
})

describe('a software module download', () => {
  it('installs a module under the limit', async () => {
    const done = await t.finished(
      (await t.request(MAIN, 'software_update', install('small', server.bytes(MiB / 2)))).id,
    )
    expect(done.status).toBe('successful')
    expect(statSync(path.join(t.dataDir, 'software', 'file', 'small')).size).toBe(MiB / 2)
    expect(downloads()).toEqual([])
  })

  it.each([
    ['streamed without a length', { chunked: true }],
    ['announcing its length', { chunked: false }],
  ])('fails past the limit, %s, and leaves no partial file', async (_, options) => {
    const url = server.bytes(5 * MiB, options)
    const done = await t.finished((await t.request(MAIN, 'software_update', install('big', url))).id)
    expect(done.status).toBe('failed')
    expect(done.reason).toBe(
      `Download error: the file is larger than the limit of 1 MiB (max_download_size in ${systemToml}) for "${url}"`,
    )
    expect(downloads()).toEqual([])
    expect(existsSync(path.join(t.dataDir, 'software', 'file', 'big'))).toBe(false)
  })

  it('fails when it would leave the disk without room, before a byte is written', async () => {
    writeFileSync(systemToml, '[agent]\nmax_download_size = "1000 TiB"\n')
    try {
      const url = server.announce(900 * 1024 ** 4)
      const done = await t.finished((await t.request(MAIN, 'software_update', install('huge', url))).id)
      expect(done.reason).toMatch(
        /^Download error: the file would leave less than 256 MiB free in .*\/downloads\/software-\d+ \(\d+(\.\d)? GiB free, 921600 GiB to download\) for "/,
      )
      expect(downloads()).toEqual([])
    } finally {
      writeFileSync(systemToml, '[agent]\nmax_download_size = "1 MiB"\nmax_config_size = "64 KiB"\n')
    }
  })
})

describe('a workflow download action', () => {
  it('fails past the limit with the reason, and leaves no partial file', async () => {
    const url = server.bytes(3 * MiB, { chunked: true })
    const done = await t.finished((await t.request(MAIN, 'fetch_image', { url })).id)
    expect(done.status).toBe('failed')
    expect(done.reason).toBe(
      `builtin 'download' action failed with: the file is larger than the limit of 1 MiB (max_download_size in ${systemToml})`,
    )
    expect(downloads()).toEqual([])
  })

  it('keeps a complete download under its final name', async () => {
    const done = await t.finished((await t.request(MAIN, 'fetch_image', { url: server.bytes(MiB) })).id)
    expect(done.status).toBe('successful')
    expect(statSync(done.payload.downloadedPath as string).size).toBe(MiB)
    expect(downloads()).toEqual([path.basename(done.payload.downloadedPath as string)])
  })
})

describe('a workflow upload action', () => {
  it('streams the file to its URL', async () => {
    const file = path.join(t.dataDir, 'image.bin')
    const content = Buffer.alloc(3 * MiB, 7)
    writeFileSync(file, content)
    const url = `${t.ready.http}/te/v1/files/images/image.bin`
    const done = await t.finished((await t.request(MAIN, 'send_image', { file, url })).id)
    expect(done.status).toBe('successful')
    const served = await t.http('/te/v1/files/images/image.bin', { auth: false })
    expect(Buffer.from(await served.arrayBuffer()).equals(content)).toBe(true)
  })
})

describe('a configuration file download', () => {
  it('stops at max_config_size and leaves the managed file as it was', async () => {
    const file = path.join(t.dataDir, 'line.conf')
    writeFileSync(file, 'speed = 100\n')
    writeFileSync(
      path.join(t.dataDir, 'plugins', 'tedge-configuration-plugin.toml'),
      `files = [ { path = ${JSON.stringify(file)}, type = "line.conf" } ]\n`,
    )
    // As a cloud mapper asks for it: over the bus, the file at a URL of its choosing.
    const url = server.bytes(MiB, { chunked: true })
    const before = downloads()
    const client = await t.client()
    const payload = { status: 'init', type: 'line.conf', remoteUrl: url }
    await client.publishAsync('te/device/main///cmd/config_update/big-1', JSON.stringify(payload), {
      retain: true,
      qos: 1,
    })
    const done = await t.finished((await t.tracked('config_update', 'big-1')).id)
    expect(done.reason).toBe(
      `Download from ${url} failed: the file is larger than the limit of 64 KiB (max_config_size in ${systemToml})`,
    )
    expect(readFileSync(file, 'utf8')).toBe('speed = 100\n')
    expect(downloads()).toEqual(before)
  })
})
