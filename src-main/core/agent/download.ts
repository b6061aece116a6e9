import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, stat, statfs, unlink } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { formatSize } from '../config/size'

// The agent's file transfers: a download is streamed to a temporary file beside its target and
// renamed once complete, so memory stays flat whatever the size, and neither a failed nor an
// interrupted download leaves a partial file under the target's name (thin-edge.io's downloader
// also writes to a file, never to memory).

/**
 * Free space a download leaves on its file system: the database, the logs and the core's own
 * writes need room to go on (a full disk stops ingest acknowledging anything).
 */
export const DISK_RESERVE_BYTES = 256 * 1024 ** 2

/** How often (bytes written) the free space is checked again while a download runs. */
const SPACE_CHECK_BYTES = 64 * 1024 ** 2

/** Why a transfer failed, without the URL: each caller words the reason its command reports. */
export class DownloadError extends Error {}

export interface DownloadOptions {
  /** Bytes the body may have; more fails the download. */
  maxBytes: number
  /** Where the limit is set, for the reason (e.g. `max_download_size in <data-dir>/system.toml`). */
  limitSetting: string
  signal?: AbortSignal
}

/**
 * GETs `url` into `file`. Fails with a DownloadError on an HTTP error, a body larger than
 * `maxBytes` (announced or streamed), or a file system that would keep less than
 * DISK_RESERVE_BYTES free; the temporary file is removed whatever happens.
 */
export async function downloadToFile(url: string, file: string, options: DownloadOptions): Promise<number> {
  const { maxBytes, signal } = options
  const tooLarge = () =>
    new DownloadError(
      `the file is larger than the limit of ${formatSize(maxBytes)} (${options.limitSetting})`,
    )
  const response = await fetch(url, { signal }).catch((error) => {
    if (signal?.aborted) throw error
    throw new DownloadError(causeOf(error))
  })
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {})
    throw new DownloadError(`HTTP ${response.status}`)
  }
  const dir = path.dirname(file)
  await mkdir(dir, { recursive: true })
  const announced = Number(response.headers.get('content-length') ?? Number.NaN)
  try {
    if (announced > maxBytes) throw tooLarge()
    if (announced > 0) await checkSpace(dir, announced)
  } catch (error) {
    await response.body.cancel().catch(() => {})
    throw error
  }

  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.part`)
  const handle = await open(temp, 'wx')
  let written = 0
  let nextCheck = SPACE_CHECK_BYTES
  try {
    // Each chunk is written before the next is read: the body is pulled at the disk's pace. Leaving
    // the loop early (a limit, an error) cancels the body, which ends the connection.
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      written += chunk.byteLength
      if (written > maxBytes) throw tooLarge()
      if (written >= nextCheck) {
        await checkSpace(dir, 0)
        nextCheck += SPACE_CHECK_BYTES
      }
      await handle.write(chunk)
    }
    await handle.close()
    await rename(temp, file)
    return written
  } catch (error) {
    await handle.close().catch(() => {})
    await unlink(temp).catch(() => {})
    if (error instanceof DownloadError || signal?.aborted) throw error
    throw new DownloadError(causeOf(error))
  }
}

/** PUTs a file to `url`, streamed from disk. */
export async function uploadFile(file: string, url: string, signal?: AbortSignal): Promise<void> {
  const size = (await stat(file)).size
  const response = await fetch(url, {
    method: 'PUT',
    body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
    headers: { 'content-length': String(size) },
    // Node's fetch sends a stream body only as a half-duplex request (the fetch standard's rule).
    duplex: 'half',
    signal,
  } as RequestInit)
  await response.body?.cancel().catch(() => {})
  if (!response.ok) throw new DownloadError(`HTTP ${response.status}`)
}

async function checkSpace(dir: string, needed: number): Promise<void> {
  const fs = await statfs(dir).catch(() => undefined)
  if (!fs) return
  const free = fs.bavail * fs.bsize
  if (free - needed < DISK_RESERVE_BYTES) {
    throw new DownloadError(
      `the file would leave less than ${formatSize(DISK_RESERVE_BYTES)} free in ${dir} ` +
        `(${formatSize(free)} free${needed ? `, ${formatSize(needed)} to download` : ''})`,
    )
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { message?: string } }).cause?.message
  return cause ?? (error as Error).message
}
