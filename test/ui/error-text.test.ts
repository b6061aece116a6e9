import { render, screen } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../src-renderer/lib/api'
import EventTimeline from '../../src-renderer/lib/components/EventTimeline.svelte'
import { errorText, jsonErrorText } from '../../src-renderer/lib/error-text'
import { parseTwinValue } from '../../src-renderer/lib/twin-fragment'
import { lineTwin } from './line-fixture'

/** The error JSON.parse throws for `text`, from this engine (V8, as in Chromium). */
function parseError(text: string): unknown {
  try {
    JSON.parse(text)
  } catch (error) {
    return error
  }
  throw new Error(`${text} parsed`)
}

describe('Error texts', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('says the core did not answer instead of the browsers’ network errors', () => {
    const said = 'EdgeTwin did not answer: check that it is running and that this device can reach it'
    for (const message of [
      'Failed to fetch',
      'NetworkError when attempting to fetch resource.',
      'Load failed',
      'fetch failed',
    ])
      expect(errorText(new TypeError(message)), message).toBe(said)
  })

  it('never shows the bundler’s texts for a part of the page that could not be loaded', () => {
    for (const message of [
      'Unable to preload CSS for http://127.0.0.1:8000/assets/OperationStatus-YPbfbJFF.css',
      'Failed to fetch dynamically imported module: http://127.0.0.1:8000/assets/AuditPage-BaK1arbi.js',
    ]) {
      const text = errorText(new TypeError(message))
      expect(text).toBe(
        'Part of the page could not be loaded from EdgeTwin: it may be restarting; try again in a moment',
      )
    }
  })

  it('keeps the core’s own reasons, and turns bare status lines into what to do', () => {
    expect(errorText(new ApiError(409, 'base version 3 is no longer current (now 4)'))).toBe(
      'base version 3 is no longer current (now 4)',
    )
    expect(errorText(new ApiError(401, 'session expired'))).toBe('Your session has ended: log in again')
    expect(errorText(new ApiError(502, '502 Bad Gateway'))).toBe(
      'EdgeTwin could not do this because of an internal error: try again, and check its log if it keeps failing',
    )
    expect(errorText(new ApiError(404, '404 Not Found'))).toMatch(/^EdgeTwin does not know this/)
    expect(errorText(new ApiError(400, '400 Bad Request'))).toBe(
      'EdgeTwin refused this (400 Bad Request): check what you entered',
    )
  })

  it('places a JSON mistake by line and column, not by character position', () => {
    const text = '{\n  "revision": "D3"\n  "board": 2\n}'
    expect(jsonErrorText(parseError(text), text)).toBe(
      "Not valid JSON at line 3, column 3: expected ',' or '}' after property value",
    )
    expect(jsonErrorText(parseError('1 2'), '1 2')).toBe(
      'Not valid JSON at line 1, column 3: unexpected non-whitespace character after JSON',
    )
    expect(jsonErrorText(parseError('{"a": '), '{"a": ')).toBe(
      'Not valid JSON: it ends too early (a closing bracket, brace or quote is missing)',
    )
    // Chromium adds its own "(line 1 column 5)": the text does not repeat it.
    const chromium = new SyntaxError(
      'Unexpected non-whitespace character after JSON at position 4 (line 1 column 5)',
    )
    expect(jsonErrorText(chromium, '42  x')).toBe(
      'Not valid JSON at line 1, column 5: unexpected non-whitespace character after JSON',
    )
    expect(parseTwinValue('{"a": 1,}')).toEqual({
      error: 'Not valid JSON at line 1, column 9: expected double-quoted property name.',
    })
  })

  it('shows a load failure on a screen in those words', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')))
    render(EventTimeline, { entity: 'device/filler//', twin: lineTwin() })
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not load events: EdgeTwin did not answer: check that it is running and that this device can reach it',
    )
    expect(screen.queryByText(/Failed to fetch/)).toBeNull()
  })
})
