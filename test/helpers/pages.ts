import { expect } from 'vitest'

/** The URL of the next page from a Link header (RFC 8288), if there is one. */
export function nextLink(header: string | null): string | undefined {
  return header === null ? undefined : /<([^>]+)>;\s*rel="next"/.exec(header)?.[1]
}

export interface Pages<T> {
  rows: T[]
  /** Bytes of each answer's body, in order. */
  sizes: number[]
  /** The URL each page was read from. */
  urls: string[]
}

/** Reads a paged list from `first` by following rel="next" to the end; every answer must be 200. */
export async function readAllPages<T>(
  http: (pathname: string) => Promise<Response>,
  first: string,
  maxPages = 10_000,
): Promise<Pages<T>> {
  const pages: Pages<T> = { rows: [], sizes: [], urls: [] }
  for (let url: string | undefined = first; url !== undefined; ) {
    expect(pages.urls.length).toBeLessThan(maxPages)
    const response = await http(url)
    const text = await response.text()
    expect(response.status, text.slice(0, 200)).toBe(200)
    pages.urls.push(url)
    pages.sizes.push(Buffer.byteLength(text))
    pages.rows.push(...(JSON.parse(text) as T[]))
    url = nextLink(response.headers.get('link'))
  }
  return pages
}
