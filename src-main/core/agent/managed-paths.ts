import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { type AgentSettings, SYSTEM_TOML, systemTomlPath } from './agent-settings'

// Which files config_snapshot, config_update and log_upload may touch. The configuration and log
// plugin files say which files are managed; this is the policy above them, which no command can
// change: a managed file lies under a managed root (the data dir and the directories system.toml
// lists), the core's own state is never read or written, and the agent's own files (its policy and
// its code) are never replaced unless system.toml allows it. Otherwise one config_update of the
// plugin file declaring, say, ~/.ssh/authorized_keys would make the next one write it.

/**
 * The core's state in the data dir: the database, the API token, the sync credentials, the lock,
 * the desktop shell's browser session, the TLS key and MQTT users for a LAN. Never managed,
 * whatever the roots.
 */
const CORE_STATE = [
  'edgetwin.db',
  'edgetwin.db-wal',
  'edgetwin.db-shm',
  'edgetwin.db-journal',
  'token',
  'sync.json',
  'edgetwin.lock',
  'desktop-session',
  'tls',
  'mqtt-passwd',
]

/** What the agent runs and obeys: read freely, replaced only with `allow_agent_file_update`. */
const AGENT_FILES = [SYSTEM_TOML, 'plugins', 'operations', 'sm-plugins']

export type Access = 'read' | 'write'

export interface ManagedPaths {
  /** Why `file` must not be read (snapshot, log upload) or written (update), or undefined. */
  problem(file: string, access: Access): Promise<string | undefined>
}

export function managedPaths(dataDir: string, settings: AgentSettings): ManagedPaths {
  const roots = [path.resolve(dataDir), ...settings.managedRoots]
  const settingsFile = systemTomlPath(dataDir)
  return {
    async problem(file, access) {
      if (!path.isAbsolute(file)) return `${file} is not an absolute path`
      const real = await resolved(file)
      const under = async (names: string[]) => {
        for (const name of names) {
          if (isWithin(real, await resolved(path.join(dataDir, name)))) return true
        }
        return false
      }
      if (await under(CORE_STATE)) return `${file} is part of EdgeTwin's own state and is never managed`
      let inRoot = false
      for (const root of roots) if (isWithin(real, await resolved(root))) inRoot = true
      if (!inRoot) {
        return (
          `${file} is outside the directories EdgeTwin manages (${roots.join(', ')}); ` +
          `an administrator can add its directory to managed_roots under [agent] in ${settingsFile}`
        )
      }
      if (access === 'write' && !settings.allowAgentFileUpdate && (await under(AGENT_FILES))) {
        return (
          `${file} is one of the agent's own files (its policy or code) and is not replaced by a ` +
          `command; an administrator can allow it with allow_agent_file_update = true under [agent] ` +
          `in ${settingsFile}`
        )
      }
      return undefined
    },
  }
}

function isWithin(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep)
}

/**
 * The path with every symbolic link resolved, as the kernel will open it; a part that does not
 * exist yet (a file config_update creates) is appended to its nearest existing parent's real path.
 */
async function resolved(file: string): Promise<string> {
  const absolute = path.resolve(file)
  try {
    return await realpath(absolute)
  } catch {
    const parent = path.dirname(absolute)
    if (parent === absolute) return absolute
    return path.join(await resolved(parent), path.basename(absolute))
  }
}
