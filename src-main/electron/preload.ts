import { contextBridge } from 'electron'
import { version } from '../../package.json'

/**
 * The page runs sandboxed with context isolation; all it learns from the shell is that it is inside
 * the desktop app, and which version. It talks to the core over HTTP like any browser, so nothing
 * else crosses this bridge, and never the API token.
 */
contextBridge.exposeInMainWorld('edgetwin', { desktop: true, version })
