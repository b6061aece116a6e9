// A line diff for reading on screen: changed lines with a few unchanged ones around them, the
// long unchanged stretches between changes folded into one "n unchanged lines" row.
import { applyPatch, diffLines, structuredPatch } from 'diff'

export type DiffRow =
  | { kind: 'same'; text: string }
  | { kind: 'added'; text: string }
  | { kind: 'removed'; text: string }
  | { kind: 'folded'; count: number }

/** Unchanged lines kept either side of a change: enough to recognise the place in the file. */
const CONTEXT = 3

const linesOf = (value: string) => {
  const lines = value.split('\n')
  if (value.endsWith('\n')) lines.pop()
  return lines
}

export function diffRows(before: string, after: string, context = CONTEXT): DiffRow[] {
  const parts = diffLines(before, after)
  const rows: DiffRow[] = []
  parts.forEach((part, index) => {
    const lines = linesOf(part.value)
    if (part.added || part.removed) {
      const kind = part.added ? 'added' : 'removed'
      for (const text of lines) rows.push({ kind, text })
      return
    }
    const head = index === 0 ? 0 : context
    const tail = index === parts.length - 1 ? 0 : context
    if (lines.length <= head + tail + 1) {
      for (const text of lines) rows.push({ kind: 'same', text })
      return
    }
    for (const text of lines.slice(0, head)) rows.push({ kind: 'same', text })
    rows.push({ kind: 'folded', count: lines.length - head - tail })
    for (const text of lines.slice(lines.length - tail)) rows.push({ kind: 'same', text })
  })
  return rows
}

/**
 * The changes from `base` to `edit` applied to `current` (a newer version of the same file), or
 * undefined when they touch lines `current` changed too. One line of context anchors each change,
 * so a change next to one of `current`'s is left to the user rather than guessed.
 */
export function mergeEdit(base: string, edit: string, current: string): string | undefined {
  const merged = applyPatch(current, structuredPatch('base', 'edit', base, edit, '', '', { context: 1 }))
  return merged === false ? undefined : merged
}
