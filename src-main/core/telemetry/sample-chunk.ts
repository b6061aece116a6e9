/**
 * The samples of one series written by one batch, stored as one row: `count` little-endian float64
 * times, then `count` float64 values. One row per series per batch instead of one per value is
 * what lets the store keep up with the broker (docs/benchmarks.md).
 */
export function encodeChunk(times: readonly number[], values: readonly number[]): Buffer {
  const count = times.length
  const data = new Float64Array(count * 2)
  for (let i = 0; i < count; i++) {
    data[i] = times[i] as number
    data[count + i] = values[i] as number
  }
  return Buffer.from(data.buffer)
}

/** The float64s of a chunk, copied to an aligned array (SQLite's buffers may be unaligned). */
export function decodeChunk(data: Buffer, count: number): Float64Array {
  const aligned = new Float64Array(count * 2)
  Buffer.from(aligned.buffer).set(data.subarray(0, count * 16))
  return aligned
}
