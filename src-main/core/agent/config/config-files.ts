import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import type { ConfigFileEntry } from './plugin-config'

// Reading and replacing a managed configuration file: config_snapshot's `get` and config_update's
// `set` / `rollback` steps (tedge_file_config_plugin lib.rs, tedge_utils atomic.rs).

export class ConfigFileError extends Error {}

/** A new version of a file: its bytes, or a file (config_update's downloaded file) to take them from. */
export type ConfigSource = { content: string | Uint8Array } | { fromFile: string }

/** What rollback needs, kept in the operation's work dir so it survives an agent restart in between. */
interface Backup {
  path: string
  existed: boolean
}

const BACKUP_META = 'previous.json'
const BACKUP_CONTENT = 'previous'

/** The file's current content (config_snapshot). */
export async function readConfigFile(entry: ConfigFileEntry): Promise<Buffer> {
  try {
    return await readFile(entry.path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigFileError(`Config file not found: ${entry.path}`)
    }
    throw new ConfigFileError(`failed to read: '${entry.path}': ${(error as Error).message}`)
  }
}

/**
 * Replaces the file atomically (temporary file beside it, then rename: a program watching it never
 * reads half a file). An existing file keeps its owner and mode; a new one gets the entry's
 * user/group/mode, else this process's user and 0o644 (atomic.rs `target_permissions`). Missing
 * parent directories are created with the entry's parent permissions. With a `workDir`, the
 * previous version is kept there for `rollbackConfigFile`.
 */
export async function deployConfigFile(
  entry: ConfigFileEntry,
  source: ConfigSource,
  options: { workDir?: string } = {},
): Promise<void> {
  if ('fromFile' in source) await checkSource(source.fromFile)
  const owner = await resolveOwner(entry.user, entry.group)
  const parent = path.dirname(entry.path)
  if (!(await exists(parent))) await createParent(parent, entry)
  if (options.workDir) await saveBackup(entry.path, options.workDir)
  await writeFileAtomic(entry.path, source, { mode: entry.mode ?? 0o644, ...owner })
}

/**
 * Puts back the version `deployConfigFile` saved in `workDir` (or removes a file that did not exist
 * before). Returns false when there is nothing to roll back to.
 */
export async function rollbackConfigFile(entry: ConfigFileEntry, workDir: string): Promise<boolean> {
  let backup: Backup
  try {
    backup = JSON.parse(await readFile(path.join(workDir, BACKUP_META), 'utf8')) as Backup
  } catch {
    return false
  }
  if (backup.path !== entry.path) {
    throw new ConfigFileError(`the backup in ${workDir} is of ${backup.path}, not ${entry.path}`)
  }
  if (!backup.existed) {
    await rm(entry.path, { force: true })
    return true
  }
  // The file exists again by now, so its owner and mode are kept as they were.
  await writeFileAtomic(
    entry.path,
    { fromFile: path.join(workDir, BACKUP_CONTENT) },
    {
      mode: entry.mode ?? 0o644,
      ...(await resolveOwner(entry.user, entry.group)),
    },
  )
  return true
}

async function saveBackup(file: string, workDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true })
  let existed = true
  const backup = path.join(workDir, BACKUP_CONTENT)
  try {
    await copyFile(file, backup)
    await chmod(backup, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigFileError(`cannot keep the previous version of ${file}: ${(error as Error).message}`)
    }
    existed = false
  }
  const meta: Backup = { path: file, existed }
  await writeFile(path.join(workDir, BACKUP_META), JSON.stringify(meta))
}

interface Ownership {
  uid?: number
  gid?: number
}

/**
 * Writes the source's bytes to `dest` through a temporary file in the same directory (a file source
 * is streamed, never held in memory), with the existing file's mode and owner, or the given ones
 * for a new file; the temporary file is removed on failure.
 */
async function writeFileAtomic(
  dest: string,
  source: ConfigSource,
  wanted: Ownership & { mode: number },
): Promise<void> {
  const current = await stat(dest).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw new ConfigFileError(`cannot read the permissions of ${dest}: ${error.message}`)
  })
  const mode = current ? current.mode & 0o7777 : wanted.mode
  const uid = current ? current.uid : wanted.uid
  const gid = current ? current.gid : wanted.gid
  const temp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(temp, 'wx', 0o600)
    if ('content' in source) await handle.writeFile(source.content)
    else for await (const chunk of createReadStream(source.fromFile)) await handle.write(chunk as Buffer)
    await handle.chmod(mode)
    const created = await handle.stat()
    if ((uid !== undefined && uid !== created.uid) || (gid !== undefined && gid !== created.gid)) {
      await handle.chown(uid ?? created.uid, gid ?? created.gid)
    }
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(temp, dest)
  } catch (error) {
    await handle?.close().catch(() => {})
    await unlink(temp).catch(() => {})
    if (error instanceof ConfigFileError) throw error
    throw new ConfigFileError(`failed to deploy config file to '${dest}': ${(error as Error).message}`)
  }
}

async function createParent(dir: string, entry: ConfigFileEntry): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
    // thin-edge.io's parent_user/parent_group default to the file's user/group (config.rs `FileEntry::new`).
    const owner = await resolveOwner(entry.parentUser ?? entry.user, entry.parentGroup ?? entry.group)
    if (entry.parentMode !== undefined) await chmod(dir, entry.parentMode)
    if (owner.uid !== undefined || owner.gid !== undefined) {
      const current = await stat(dir)
      await chown(dir, owner.uid ?? current.uid, owner.gid ?? current.gid)
    }
  } catch (error) {
    if (error instanceof ConfigFileError) throw error
    throw new ConfigFileError(
      `failed to create parent directories. Path: '${dir}': ${(error as Error).message}`,
    )
  }
}

async function checkSource(file: string): Promise<void> {
  try {
    await stat(file)
  } catch (error) {
    throw new ConfigFileError(`failed to open source temporary file '${file}': ${(error as Error).message}`)
  }
}

const run = promisify(execFile)

/** User and group names (or numbers) to ids; an unknown name is an error, as in atomic.rs. */
async function resolveOwner(user?: string, group?: string): Promise<Ownership> {
  return {
    uid: user === undefined ? undefined : await resolveId('passwd', user, 'user'),
    gid: group === undefined ? undefined : await resolveId('group', group, 'group'),
  }
}

async function resolveId(database: 'passwd' | 'group', name: string, what: string): Promise<number> {
  if (/^\d+$/.test(name)) return Number(name)
  try {
    // getent asks NSS, so users from LDAP or systemd-userdb resolve like local ones.
    const { stdout } = await run('getent', [database, name])
    const id = Number(stdout.split(':')[2])
    if (Number.isInteger(id)) return id
  } catch {
    // Not found (exit 2), or no getent on this system.
  }
  throw new ConfigFileError(`no such ${what}: '${name}'`)
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  )
}
