import { existsSync, readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH } from '../../../src-main/core/api/json-body'
import { startCore, type TestCore } from '../../helpers/core'
import { type RawAnswer, rawRequest } from '../../helpers/raw-http'

// Input that used to reach code unprepared for it (a 500) is refused at the edge with a 4xx and a
// reason: repeated query filters, numbers that are not finite, JSON nested thousands deep, file
// names no file system takes, a file where a folder should be, and uploads over the limit.

const UPLOAD_LIMIT = 256 * 1024

let t: TestCore
const send = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
  rawRequest(t.ready.http, { method, path, body, headers })
const withToken = () => ({ authorization: `Bearer ${t.ready.token}` })

beforeAll(async () => {
  t = await startCore({ maxUploadBytes: UPLOAD_LIMIT })
})
afterAll(() => t.stop())

function expectRefused(answer: RawAnswer, status: number, reason: RegExp) {
  expect(answer.status, answer.body).toBe(status)
  expect(JSON.parse(answer.body).error).toMatch(reason)
}

const filesDir = () => path.join(t.dataDir, 'files')
const leftovers = () =>
  readdirSync(filesDir(), { recursive: true })
    .map(String)
    .filter((f) => f.includes('.uploading-'))

describe('bad input gets a 4xx with a reason', () => {
  it('refuses a repeated filter on /te/v1/entities', async () => {
    expectRefused(await send('GET', '/te/v1/entities?parent=a&parent=b'), 400, /parent must be string/)
    expectRefused(await send('GET', '/te/v1/entities?root=a&root=b'), 400, /root must be string/)
  })

  it('refuses JSON nested deeper than the limit, on every JSON route', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    const json = { 'content-type': 'application/json' }
    expectRefused(
      await send('PUT', '/te/v1/entities/device/main///twin/k', deep(100_000), json),
      400,
      /deeper than 64/,
    )
    const patch = await send(
      'PATCH',
      `/api/v1/entities/${encodeURIComponent('device/main//')}`,
      `{"twin":{"k":${deep(5000)}}}`,
      {
        ...json,
        ...withToken(),
      },
    )
    expectRefused(patch, 400, /deeper than/)
    // Brackets inside strings are text, and the limit itself is allowed.
    const fine = `{"a":"${'['.repeat(1000)}","b":${deep(MAX_JSON_DEPTH - 1)}}`
    expect((await send('PUT', '/te/v1/entities/device/main///twin/k', fine, json)).status).toBe(200)
  })

  it('refuses numbers that are not finite where an integer is expected', async () => {
    for (const path of [
      '/api/v1/audit?limit=Infinity',
      '/api/v1/audit/export?limit=1e999',
      '/api/v1/events?limit=-Infinity',
      '/api/v1/operations?limit=Infinity',
      '/api/v1/operations?before=Infinity',
      '/api/v1/alarms/Infinity',
      '/api/v1/operations/1e400',
      `/api/v1/series/Infinity`,
    ]) {
      const answer = await send('GET', path, undefined, withToken())
      expect(answer.status, `${path}: ${answer.body}`).toBe(400)
      expect(JSON.parse(answer.body).error).toMatch(/must be/)
    }
  })

  it('refuses file names and paths no file system takes', async () => {
    expectRefused(await send('PUT', `/te/v1/files/${'n'.repeat(256)}`, 'x'), 400, /longer than 255 bytes/)
    expectRefused(
      await send('GET', `/te/v1/files/${encodeURIComponent('é'.repeat(128))}`),
      400,
      /longer than 255 bytes/,
    )
    const deepPath = Array.from({ length: 100 }, () => 'folder-name').join('/')
    expectRefused(await send('PUT', `/te/v1/files/${deepPath}/f`, 'x'), 400, /longer than 1024 bytes/)
    expectRefused(await send('PUT', '/te/v1/files/a/%2e%2e/%2e%2e/escape', 'x'), 400, /invalid file path/)
  })

  it('answers a file where a folder should be, and a folder where a file should be, with 409', async () => {
    expect((await send('PUT', '/te/v1/files/safe%2e%2e', 'a file')).status).toBe(201)
    expectRefused(await send('PUT', '/te/v1/files/safe%2e%2e/x', 'x'), 409, /is a file, not a folder/)
    expect((await send('GET', '/te/v1/files/safe%2e%2e/x')).status).toBe(404)
    expect((await send('DELETE', '/te/v1/files/safe%2e%2e/x')).status).toBe(202)
    expect((await send('PUT', '/te/v1/files/folder/inner.txt', 'x')).status).toBe(201)
    expectRefused(await send('PUT', '/te/v1/files/folder', 'x'), 409, /is a folder/)
    expect(readFileSync(path.join(filesDir(), 'safe..'), 'utf8')).toBe('a file')
  })

  it('stores an upload without a body as an empty file', async () => {
    expect((await send('PUT', '/te/v1/files/empty.txt')).status).toBe(201)
    expect(readFileSync(path.join(filesDir(), 'empty.txt'), 'utf8')).toBe('')
  })
})

describe('uploads to /te/v1/files', () => {
  it('stores a file up to the limit, streamed', async () => {
    const exact = Buffer.alloc(UPLOAD_LIMIT, 7)
    expect((await send('PUT', '/te/v1/files/exact.bin', exact)).status).toBe(201)
    expect(readFileSync(path.join(filesDir(), 'exact.bin')).equals(exact)).toBe(true)
  })

  it('refuses a declared length over the limit before reading the body', async () => {
    const answer = await new Promise<RawAnswer>((resolve, reject) => {
      const req = http.request(
        `${t.ready.http}/te/v1/files/declared.bin`,
        { method: 'PUT', headers: { 'content-length': String(10 * 1024 ** 3) } },
        (res) => {
          let body = ''
          res.on('data', (chunk) => {
            body += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        },
      )
      req.on('error', reject)
      // Headers only: the answer comes although the 10 GiB never do.
      req.flushHeaders()
    })
    expectRefused(answer, 413, new RegExp(`limit of ${UPLOAD_LIMIT} bytes`))
    expect(answer.headers.connection).toBe('close')
    expect(existsSync(path.join(filesDir(), 'declared.bin'))).toBe(false)
  })

  it('refuses a streamed upload once it passes the limit, leaving no file behind', async () => {
    const answer = await new Promise<RawAnswer>((resolve, reject) => {
      let answered = false
      const req = http.request(`${t.ready.http}/te/v1/files/streamed.bin`, { method: 'PUT' }, (res) => {
        answered = true
        let body = ''
        res.on('data', (chunk) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      // The core closes the connection after its answer: writes after that may fail.
      req.on('error', () => {})
      req.once('close', () => {
        if (!answered) reject(new Error('closed without an answer'))
      })
      let sent = 0
      const chunk = Buffer.alloc(16 * 1024, 1)
      // Sends until the core answers (or 16 times the limit, which it must refuse long before).
      const pump = () => {
        while (sent < 16 * UPLOAD_LIMIT && !answered) {
          sent += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        req.end()
      }
      pump()
    })
    expectRefused(answer, 413, /larger than the limit/)
    expect(existsSync(path.join(filesDir(), 'streamed.bin'))).toBe(false)
    expect(leftovers()).toEqual([])
    // The core is fine and takes the next upload.
    expect((await send('PUT', '/te/v1/files/after.bin', 'ok')).status).toBe(201)
  })
})
