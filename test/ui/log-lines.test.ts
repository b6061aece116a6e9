import { render, screen, within } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import OperationFile from '../../src-renderer/lib/components/OperationFile.svelte'
import { formatTime } from '../../src-renderer/lib/format'
import { logLines } from '../../src-renderer/lib/log-lines'
import { stubApi } from './line-fixture'

const T = 1_796_303_503_126
const PINO = [
  `{"level":30,"time":${T},"pid":4242,"hostname":"edge-01","msg":"core started","http":"http://127.0.0.1:8000"}`,
  `{"level":40,"time":${T + 1500},"pid":4242,"hostname":"edge-01","msg":"cloud connection error","reason":"Cannot find host cloud.example.invalid"}`,
  `{"level":50,"time":${T + 3000},"pid":4242,"hostname":"edge-01","msg":"write failed"}`,
  'plain text from another program, kept as it is',
].join('\n')

describe('Log lines', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('turns pino JSON lines into "time level message {extra}" with local times', () => {
    expect(logLines(PINO)).toEqual([
      { time: formatTime(T), level: 'info', text: 'core started {"http":"http://127.0.0.1:8000"}' },
      {
        time: formatTime(T + 1500),
        level: 'warn',
        text: 'cloud connection error {"reason":"Cannot find host cloud.example.invalid"}',
      },
      { time: formatTime(T + 3000), level: 'error', text: 'write failed' },
      { time: undefined, level: undefined, text: 'plain text from another program, kept as it is' },
    ])
  })

  it('shows a workflow log’s ISO UTC times as local times, and other lines as they are', () => {
    const iso = new Date(T).toISOString()
    expect(logLines(`${iso} [executing] rebooting\n{not json\n`)).toEqual([
      { time: formatTime(T), level: undefined, text: '[executing] rebooting' },
      { time: undefined, level: undefined, text: '{not json' },
    ])
  })

  it('shows an uploaded log as readable lines, offered for download as it came', async () => {
    stubApi(({ url }) =>
      url.pathname === '/api/v1/operations/5/file'
        ? new Response(PINO, { status: 200, headers: { 'content-type': 'text/plain' } })
        : undefined,
    )
    render(OperationFile, { id: 5, operation: 'log_upload' })
    const box = await screen.findByRole('region', { name: 'Content of log_upload-5.txt' })
    const lines = within(box).getAllByRole('listitem')
    expect(lines.map((li) => li.textContent)).toEqual([
      `${formatTime(T)} info core started {"http":"http://127.0.0.1:8000"}`,
      `${formatTime(T + 1500)} warn cloud connection error {"reason":"Cannot find host cloud.example.invalid"}`,
      `${formatTime(T + 3000)} error write failed`,
      'plain text from another program, kept as it is',
    ])
    expect(box).not.toHaveTextContent(String(T))
    expect(screen.getByRole('link', { name: 'Download' })).toHaveAttribute('download', 'log_upload-5.txt')
  })
})
