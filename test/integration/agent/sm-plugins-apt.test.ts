import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Download, SoftwareManager, type UpdateListEntry } from '../../../src-main/core/agent/software'

// The shipped apt plugin really installing and removing a Debian package on this machine (root, as
// here and in CI). The package is built here, depends on nothing and is installed from its file, so
// no network is needed: prepare's `apt-get update` and finalize's `autoremove` are switched off.
const APT_PLUGIN = path.resolve(import.meta.dirname, '../../../resources/sm-plugins/apt')
const PACKAGE = 'edgetwin-test-pkg'
const INSTALLED_FILE = `/opt/${PACKAGE}/README`

/** `<status> <version>` as dpkg knows the package, or undefined when dpkg has no record of it. */
function dpkgState(): string | undefined {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax.
  const query = spawnSync('dpkg-query', ['-W', '-f', '${db:Status-Status} ${Version}', PACKAGE], {
    encoding: 'utf8',
  })
  return query.status === 0 ? query.stdout : undefined
}

function isInstalled(): boolean {
  return dpkgState()?.startsWith('installed ') ?? false
}

function purge(): void {
  if (dpkgState() !== undefined) spawnSync('dpkg', ['--purge', PACKAGE], { stdio: 'ignore' })
}

describe('the apt sm-plugin', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'edgetwin-apt-'))
  const pluginDir = path.join(root, 'sm-plugins')
  const deb = path.join(root, `${PACKAGE}_1.0.0_all.deb`)
  const manager = new SoftwareManager({
    pluginDir,
    env: { EDGETWIN_APT_UPDATE: '0', EDGETWIN_APT_AUTOREMOVE: '0' },
  })
  /** Like the agent: the download is named NAME_VERSION, without the .deb extension apt-get wants. */
  const download: Download = async (_url, module) => {
    const file = path.join(root, 'downloads', `${module.name}_${module.version}`)
    mkdirSync(path.dirname(file), { recursive: true })
    copyFileSync(deb, file)
    return { path: file, cleanup: async () => rmSync(file, { force: true }) }
  }
  const update = (action: 'install' | 'remove', name = PACKAGE, version = '1.0.0'): UpdateListEntry[] => [
    {
      type: 'apt',
      modules: [{ name, version, url: `http://127.0.0.1:8000/te/v1/files/${PACKAGE}.deb`, action }],
    },
  ]

  beforeAll(() => {
    purge() // a run that died half-way
    const tree = path.join(root, 'tree')
    mkdirSync(path.join(tree, 'DEBIAN'), { recursive: true })
    mkdirSync(path.join(tree, 'opt', PACKAGE), { recursive: true })
    writeFileSync(
      path.join(tree, 'DEBIAN', 'control'),
      [
        `Package: ${PACKAGE}`,
        'Version: 1.0.0',
        'Architecture: all',
        'Maintainer: EdgeTwin tests <tests@edgetwin.invalid>',
        'Description: EdgeTwin sm-plugin test package',
        '',
      ].join('\n'),
    )
    writeFileSync(path.join(tree, 'opt', PACKAGE, 'README'), 'installed by the EdgeTwin apt sm-plugin test\n')
    const build = spawnSync('dpkg-deb', ['--root-owner-group', '--build', tree, deb], { encoding: 'utf8' })
    if (build.status !== 0) throw new Error(`dpkg-deb failed: ${build.stderr}`)
    mkdirSync(pluginDir)
    copyFileSync(APT_PLUGIN, path.join(pluginDir, 'apt'))
    chmodSync(path.join(pluginDir, 'apt'), 0o755)
  })

  afterAll(() => {
    purge()
    rmSync(root, { recursive: true, force: true })
  })

  it('installs a downloaded .deb with --file, lists it, then removes it', { timeout: 180_000 }, async () => {
    const log: string[] = []
    expect((await manager.load()).types()).toEqual(['apt'])

    expect(await manager.update(update('install'), { download, log: (line) => log.push(line) })).toEqual({
      status: 'successful',
    })
    expect(dpkgState()).toBe('installed 1.0.0')
    expect(existsSync(INSTALLED_FILE)).toBe(true)
    const downloaded = path.join(root, 'downloads', `${PACKAGE}_1.0.0`)
    expect(log).toContain(
      `----- $ ${pluginDir}/apt "install" "${PACKAGE}" "--module-version" "1.0.0" "--file" "${downloaded}"`,
    )
    expect(existsSync(downloaded)).toBe(false)

    const listed = await manager.list()
    expect(listed.status).toBe('successful')
    const apt = listed.currentSoftwareList.find((list) => list.type === 'apt')
    expect(apt?.modules).toContainEqual({ name: PACKAGE, version: '1.0.0' })

    expect(await manager.update(update('remove'))).toEqual({ status: 'successful' })
    expect(isInstalled()).toBe(false)
    expect(existsSync(INSTALLED_FILE)).toBe(false)
    const after = await manager.list()
    expect(after.currentSoftwareList.find((list) => list.type === 'apt')?.modules).not.toContainEqual({
      name: PACKAGE,
      version: '1.0.0',
    })
  })

  it('refuses a package file that is not the module or version asked for', { timeout: 60_000 }, async () => {
    const otherName = await manager.update(update('install', 'edgetwin-other-pkg'), { download })
    expect(otherName).toMatchObject({
      status: 'failed',
      failures: [{ type: 'apt', modules: [{ name: 'edgetwin-other-pkg', action: 'install' }] }],
    })
    expect(otherName.status === 'failed' && otherName.reason).toContain(
      `expected value for the Package is ${PACKAGE}, but provided edgetwin-other-pkg`,
    )

    const otherVersion = await manager.update(update('install', PACKAGE, '2.0.0'), { download })
    expect(otherVersion.status === 'failed' && otherVersion.reason).toContain(
      'expected value for the Version is 1.0.0, but provided 2.0.0',
    )
    expect(isInstalled()).toBe(false)
  })

  it('refuses a package apt does not know before apt-get runs', { timeout: 60_000 }, async () => {
    const result = await manager.update([
      { type: 'apt', modules: [{ name: 'edgetwin-no-such-package', action: 'install' }] },
    ])
    const reason =
      'apt knows no package named edgetwin-no-such-package (run apt-get update, or check the name)'
    expect(result).toEqual({
      status: 'failed',
      reason: `Failed to install "edgetwin-no-such-package": ${reason}`,
      failures: [
        {
          type: 'apt',
          modules: [{ name: 'edgetwin-no-such-package', action: 'install', reason }],
        },
      ],
    })
  })
})
