import { OperationFailed } from './command'

/** A device gives a file server this long before it reports the transfer as failed. */
const TRANSFER_TIMEOUT_MS = 30_000

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

function parseHttpUrl(url: string): URL | undefined {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined
  } catch {
    return undefined
  }
}

/** An http(s) URL on this machine (EdgeTwin's file transfer service): one the simulator really fetches. */
export function isLocalHttp(url: string): boolean {
  const parsed = parseHttpUrl(url)
  return parsed !== undefined && LOCAL_HOSTS.has(parsed.hostname)
}

function describe(error: unknown): string {
  // fetch wraps the socket error ("fetch failed"); its cause says what went wrong.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}

async function request(url: string, init: RequestInit, signal: AbortSignal, verb: string): Promise<Response> {
  if (!parseHttpUrl(url)) throw new OperationFailed(`Failed to ${verb} ${url}: not an http(s) URL`)
  try {
    return await fetch(url, {
      ...init,
      signal: AbortSignal.any([signal, AbortSignal.timeout(TRANSFER_TIMEOUT_MS)]),
    })
  } catch (error) {
    // A stopping agent ends quietly; anything else is the transfer's failure.
    if (signal.aborted) throw error
    throw new OperationFailed(`Failed to ${verb} ${url}: ${describe(error)}`)
  }
}

/** GETs a file; anything but 200 fails the operation with the HTTP status. */
export async function download(url: string, signal: AbortSignal): Promise<Buffer> {
  const response = await request(url, {}, signal, 'download')
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new OperationFailed(`Failed to download ${url}: HTTP ${response.status} ${response.statusText}`)
  }
  return Buffer.from(await response.arrayBuffer())
}

/** PUTs a file, as thin-edge.io uploads to the file transfer service (reference §3.3). */
export async function upload(url: string, body: string, signal: AbortSignal): Promise<void> {
  const init = { method: 'PUT', body, headers: { 'content-type': 'text/plain; charset=utf-8' } }
  const response = await request(url, init, signal, 'upload to')
  await response.body?.cancel()
  if (!response.ok) {
    throw new OperationFailed(`Failed to upload to ${url}: HTTP ${response.status} ${response.statusText}`)
  }
}
