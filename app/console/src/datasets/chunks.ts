/**
 * Chunk planning for resumable uploads: which byte ranges still have to be sent, cut to the chunk size.
 * The API answers `missing` as [start, end) pairs; after a reload these are all the page knows.
 */

/** Files at or below this size go in one multipart call; larger ones through the resumable API. */
export const ONE_SHOT_MAX = 8 * 1024 * 1024
/** At least S3's 5 MiB part size, so an S3 data root can copy the chunks into one object at `complete`. */
export const CHUNK_SIZE = 8 * 1024 * 1024

export interface Chunk {
  start: number
  /** Exclusive. */
  end: number
}

/** The chunks to send for `missing` ranges ([start, end) pairs), none larger than `chunkSize`. */
export function planChunks(missing: number[][], chunkSize: number = CHUNK_SIZE): Chunk[] {
  if (chunkSize < 1) throw new Error('chunkSize must be at least 1')
  const chunks: Chunk[] = []
  const ranges = missing
    .filter((r) => r.length === 2 && (r[1] ?? 0) > (r[0] ?? 0))
    .map((r) => [r[0] ?? 0, r[1] ?? 0] as const)
    .sort((a, b) => a[0] - b[0])
  for (const [start, end] of ranges) {
    for (let at = start; at < end; at += chunkSize) chunks.push({ start: at, end: Math.min(end, at + chunkSize) })
  }
  return chunks
}

/** Bytes already stored, from the missing ranges and the file size. */
export function receivedBytes(missing: number[][], size: number): number {
  return size - missing.reduce((sum, r) => sum + Math.max(0, (r[1] ?? 0) - (r[0] ?? 0)), 0)
}

/** What survives a reload: the open upload for a file of this name, size and last change. */
export interface SavedUpload {
  uploadId: string
  name: string
  filename: string
  size: number
  lastModified: number
  namespace: string
}

const KEY = 'conveyor.uploads'

export function savedUploads(storage: Storage = localStorage): SavedUpload[] {
  try {
    const value: unknown = JSON.parse(storage.getItem(KEY) ?? '[]')
    return Array.isArray(value) ? (value as SavedUpload[]) : []
  } catch {
    return []
  }
}

export function saveUpload(entry: SavedUpload, storage: Storage = localStorage): void {
  const rest = savedUploads(storage).filter((u) => u.uploadId !== entry.uploadId)
  storage.setItem(KEY, JSON.stringify([...rest, entry]))
}

export function forgetUpload(uploadId: string, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify(savedUploads(storage).filter((u) => u.uploadId !== uploadId)))
}

/**
 * The saved upload this file continues, if the user picked the same file again: same name and size (a different
 * file that happens to match is refused at completion, where the API checks the SHA-256 computed before sending).
 */
export function matchSaved(file: { name: string; size: number }, saved: SavedUpload[]): SavedUpload | undefined {
  return saved.find((u) => u.filename === file.name && u.size === file.size)
}

/** Hex SHA-256 of a file, read in one go (WebCrypto has no streaming digest); null when too large or unavailable. */
export async function sha256Hex(file: Blob, maxBytes = 512 * 1024 * 1024): Promise<string | null> {
  if (file.size > maxBytes || !globalThis.crypto?.subtle) return null
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer())
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}
