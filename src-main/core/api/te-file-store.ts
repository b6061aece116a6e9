import { createWriteStream } from 'node:fs'
import { type FileHandle, lstat, mkdir, open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpError } from './params'

/** Longest path segment, in bytes: the NAME_MAX of common file systems (ext4, XFS, APFS, NTFS). */
const MAX_SEGMENT_BYTES = 255
/** Longest path under files/, in bytes: well inside PATH_MAX (4096) with the data dir in front. */
const MAX_PATH_BYTES = 1024

/** Errors saying nothing is at a path: it does not exist, or a parent of it is a file. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR'])

const missing = (error: NodeJS.ErrnoException) => {
  if (ABSENT.has(error.code ?? '')) return undefined
  throw error
}

const tooLarge = (limit: number) => new HttpError(413, `the file is larger than the limit of ${limit} bytes`)

/** Passes bytes through until more than `limit` went by, then fails with a 413. */
function sizeLimit(limit: number): Transform {
  let received = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length
      callback(received > limit ? tooLarge(limit) : null, chunk)
    },
  })
}

/**
 * The files behind thin-edge.io's file transfer service: a folder (the data dir's files/) written
 * by uploads that are streamed to a staging folder first, size-bounded, then moved into place. The
 * changes to the tree (moving an upload in, removing) run one at a time, so concurrent requests on
 * overlapping paths see a consistent tree: a conflict is a 409, never a half-made folder or a 500.
 */
export class FileStore {
  private uploads = 0
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly root: string,
    /** Where uploads are received, on the same file system as `root` (a rename moves them in). */
    private readonly staging: string,
    private readonly limit: number,
  ) {}

  /** Empties the staging folder: what is there was left by a core that stopped mid-upload. */
  async start(): Promise<void> {
    await rm(this.staging, { recursive: true, force: true })
    await mkdir(this.staging, { recursive: true, mode: 0o700 })
  }

  /** The path of a file under the root, refusing anything that would leave it or that no file system takes. */
  resolve(relative: string): string {
    const decoded = relative.replace(/^\/+/, '')
    const segments = decoded.split('/')
    if (decoded === '' || segments.some((s) => s === '..' || s === '.') || decoded.includes('\0')) {
      throw new HttpError(400, `invalid file path "${relative}"`)
    }
    if (Buffer.byteLength(decoded) > MAX_PATH_BYTES)
      throw new HttpError(400, `the file path is longer than ${MAX_PATH_BYTES} bytes`)
    if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES))
      throw new HttpError(400, `a file or folder name is longer than ${MAX_SEGMENT_BYTES} bytes`)
    const file = path.resolve(this.root, decoded)
    if (!file.startsWith(this.root + path.sep)) throw new HttpError(400, `invalid file path "${relative}"`)
    return file
  }

  /**
   * Stores `body` at `file` (overwriting a file there): 413 past the size limit (`declared`, the
   * Content-Length, is checked before a byte is read), 409 when a file is where a folder must be.
   * Nothing is left behind by a refused upload.
   */
  async put(file: string, body: Readable | undefined, declared: number): Promise<void> {
    if (declared > this.limit) throw tooLarge(this.limit)
    // Early, before a large body is received; checked again when the file is moved in.
    await this.checkWay(file)
    const temp = path.join(this.staging, `${process.pid}-${this.uploads++}`)
    // No body at all (no Content-Type, no length) stores an empty file, as an empty body does.
    const source = body ?? Readable.from([])
    const counted = sizeLimit(this.limit)
    // Not through pipeline(): a refused upload must not destroy the request's socket before the
    // 413 is written; the rest of the body is left unread and the connection closed after it.
    source.pipe(counted)
    try {
      await pipeline(counted, createWriteStream(temp, { mode: 0o600 }))
      await this.exclusive(async () => {
        await this.checkWay(file)
        await mkdir(path.dirname(file), { recursive: true })
        await rename(temp, file)
      })
    } catch (error) {
      source.unpipe(counted)
      throw error
    } finally {
      await rm(temp, { force: true })
    }
  }

  /** The file opened for reading with its size, or undefined when there is no file there. */
  async open(file: string): Promise<{ handle: FileHandle; size: number } | undefined> {
    // Measured through the handle, so a file removed or replaced meanwhile is served whole as it
    // was, or not found.
    const handle = await open(file, 'r').catch(missing)
    if (!handle) return undefined
    const info = await handle.stat()
    if (info.isFile()) return { handle, size: info.size }
    await handle.close()
    return undefined
  }

  /** Removes a file or a folder with what is in it; nothing there is fine. */
  remove(file: string): Promise<void> {
    return this.exclusive(async () => {
      // Under a file there is nothing to remove.
      if (!(await this.obstacle(file))) await rm(file, { force: true, recursive: true })
    })
  }

  /** 409 when something is in the way of `file`: a file where a folder must be, or a folder. */
  private async checkWay(file: string): Promise<void> {
    const blocked = await this.obstacle(file)
    if (blocked) throw new HttpError(409, `"${blocked}" is a file, not a folder`)
    if ((await lstat(file).catch(missing))?.isDirectory())
      throw new HttpError(409, `"${path.relative(this.root, file)}" is a folder`)
  }

  /** The first folder on the way to `file` that is something else (a file, a link), relative to root. */
  private async obstacle(file: string): Promise<string | undefined> {
    let current = this.root
    for (const part of path.relative(this.root, file).split(path.sep).slice(0, -1)) {
      current = path.join(current, part)
      const info = await lstat(current).catch(missing)
      if (!info) return undefined
      if (!info.isDirectory()) return path.relative(this.root, current)
    }
    return undefined
  }

  private exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change)
    this.queue = run.catch(() => {})
    return run
  }
}
