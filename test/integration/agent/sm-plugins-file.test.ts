import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Download, discoverPlugins, SoftwareManager } from '../../../src-main/core/agent/software'

// The shipped file plugin: modules are files kept under <data-dir>/software/file, no root needed.
const FILE_PLUGIN = path.resolve(import.meta.dirname, '../../../resources/sm-plugins/file')

describe('the file sm-plugin', () => {
  let dataDir: string
  let pluginDir: string
  let manager: SoftwareManager

  const download: Download = async (url) => {
    const file = path.join(dataDir, 'downloads', encodeURIComponent(url))
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, `content of ${url}\n`)
    return file
  }

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-file-plugin-'))
    pluginDir = path.join(dataDir, 'sm-plugins')
    mkdirSync(pluginDir)
    copyFileSync(FILE_PLUGIN, path.join(pluginDir, 'file'))
    chmodSync(path.join(pluginDir, 'file'), 0o755)
    manager = new SoftwareManager({ pluginDir, env: { EDGETWIN_DATA_DIR: dataDir } })
  })
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }))

  it('installs a module from its url, lists it with its version, and removes it', async () => {
    const installed = path.join(dataDir, 'software', 'file', 'recipe.json')

    const result = await manager.update(
      [
        {
          type: 'file',
          modules: [{ name: 'recipe.json', version: '3', url: 'http://x/recipe-3', action: 'install' }],
        },
      ],
      { download },
    )
    expect(result).toEqual({ status: 'successful' })
    expect(readFileSync(installed, 'utf8')).toBe('content of http://x/recipe-3\n')
    expect(await manager.list()).toEqual({
      status: 'successful',
      currentSoftwareList: [{ type: 'file', modules: [{ name: 'recipe.json', version: '3' }] }],
    })

    const wrongVersion = await manager.update([
      { type: 'file', modules: [{ name: 'recipe.json', version: '2', action: 'remove' }] },
    ])
    expect(wrongVersion).toMatchObject({
      status: 'failed',
      failures: [
        {
          type: 'file',
          modules: [{ name: 'recipe.json', reason: "recipe.json is installed in version '3', not '2'" }],
        },
      ],
    })

    expect(
      await manager.update([{ type: 'file', modules: [{ name: 'recipe.json', action: 'remove' }] }]),
    ).toEqual({
      status: 'successful',
    })
    expect(existsSync(installed)).toBe(false)
    expect((await manager.list()).currentSoftwareList).toEqual([{ type: 'file', modules: [] }])
  })

  it('needs a url, and refuses names that are paths', async () => {
    const result = await manager.update(
      [
        {
          type: 'file',
          modules: [
            { name: 'no-url', action: 'install' },
            { name: '../escape', url: 'http://x/e', action: 'install' },
          ],
        },
      ],
      { download },
    )
    expect(result.status === 'failed' && result.failures[0]?.modules.map((m) => m.reason)).toEqual([
      'the file plugin installs only a downloaded file: give the module a url',
      "invalid module name '../escape': a file name not starting with '.' or '-', without control characters",
    ])
    expect(existsSync(path.join(dataDir, 'software', 'escape'))).toBe(false)
  })

  it('is not a plugin when it is not told where the data dir is', async () => {
    const plugins = await discoverPlugins(pluginDir, { env: { EDGETWIN_DATA_DIR: '' } })
    expect(plugins.types()).toEqual([])
    expect(plugins.rejected[0]?.reason).toContain(
      'neither EDGETWIN_FILE_PLUGIN_DIR nor EDGETWIN_DATA_DIR is set',
    )
  })
})
