import { randomBytes } from 'node:crypto'
import { link, mkdir, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * Writes `content` to `file` unless the file exists; true when it wrote it. The file appears at
 * once and complete (a hard link of a finished temporary file), and an existing one is never
 * replaced, even by a concurrent writer.
 */
export async function createIfMissing(file: string, content: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true })
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temp, content)
  try {
    await link(temp, file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    await unlink(temp).catch(() => {})
  }
}
