import path from 'node:path'

// Where the files of file-transfer operations live: under `<data-dir>/files`, served by this core's
// /te/v1/files (reference §3.3), so a `tedgeUrl` and a local path name the same file.

/** The `tedgeUrl` EdgeTwin gives a command's file: `/te/v1/files/<entity>/<operation>/<cmd-id>`. */
export function fileUrl(httpUrl: string, entity: string, operation: string, cmdId: string): string {
  const name = entity.replace(/\/+$/, '').replaceAll('/', '_')
  return `${httpUrl}/te/v1/files/${name}/${operation}/${cmdId}`
}

/** The file under `<data-dir>/files` a `tedgeUrl` points at, if it is one of this core's. */
export function localFile(dataDir: string, url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined
  let pathname: string
  try {
    pathname = decodeURIComponent(new URL(url).pathname)
  } catch {
    return undefined
  }
  const prefix = '/te/v1/files/'
  if (!pathname.startsWith(prefix)) return undefined
  const root = path.resolve(dataDir, 'files')
  const file = path.resolve(root, pathname.slice(prefix.length))
  return file.startsWith(root + path.sep) ? file : undefined
}
