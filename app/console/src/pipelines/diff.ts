/** A unified diff (as GET /pipelines/{id}/diff returns it) laid out side by side. */

export interface Cell {
  n: number
  text: string
  kind: 'same' | 'removed' | 'added'
}
export interface Row {
  left: Cell | null
  right: Cell | null
}

export function sideBySide(unified: string): Row[] {
  const rows: Row[] = []
  let left = 0
  let right = 0
  let removed: Cell[] = []
  let added: Cell[] = []
  const flush = (): void => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      rows.push({ left: removed[i] ?? null, right: added[i] ?? null })
    }
    removed = []
    added = []
  }
  for (const line of unified.split('\n')) {
    if (line.startsWith('---') || line.startsWith('+++')) continue
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line)
    if (hunk) {
      flush()
      left = Number(hunk[1]) - 1
      right = Number(hunk[2]) - 1
      continue
    }
    if (line.startsWith('-')) removed.push({ n: ++left, text: line.slice(1), kind: 'removed' })
    else if (line.startsWith('+')) added.push({ n: ++right, text: line.slice(1), kind: 'added' })
    else if (line.startsWith(' ')) {
      flush()
      rows.push({ left: { n: ++left, text: line.slice(1), kind: 'same' }, right: { n: ++right, text: line.slice(1), kind: 'same' } })
    }
  }
  flush()
  return rows
}
