/**
 * Sends one file to the API: small files in one multipart call, large ones through the resumable upload API
 * chunk by chunk, with pause/resume, and with the upload id kept in localStorage so that choosing the same file
 * after a page reload continues from the ranges the API says are missing.
 */
import { reactive } from 'vue'
import {
  completeUpload, getUpload, openUpload, putChunk, uploadWhole, type Dataset,
} from './api'
import {
  CHUNK_SIZE, ONE_SHOT_MAX, forgetUpload, matchSaved, planChunks, receivedBytes, saveUpload, savedUploads, sha256Hex,
} from './chunks'

export type UploadPhase = 'idle' | 'hashing' | 'uploading' | 'paused' | 'completing' | 'done' | 'failed'

/** Sizes can be tuned per browser (slow links, tests) without a rebuild. */
function tuned(key: string, fallback: number): number {
  const value = Number(localStorage.getItem(key))
  return Number.isFinite(value) && value > 0 ? value : fallback
}

export class Uploader {
  readonly state = reactive({ phase: 'idle' as UploadPhase, sent: 0, size: 0, uploadId: null as string | null })
  private abort: AbortController | null = null

  constructor(private readonly file: File, private readonly name: string, private readonly namespace: string) {
    this.state.size = file.size
  }

  get resumable(): boolean {
    return this.file.size > tuned('conveyor.upload.oneShotMax', ONE_SHOT_MAX)
  }

  /** Upload (or continue) and make the dataset; null when paused before the end. */
  async run(): Promise<Dataset | null> {
    try {
      if (!this.resumable) {
        this.state.phase = 'uploading'
        const dataset = await uploadWhole(this.file, this.name, this.namespace)
        this.state.sent = this.file.size
        this.state.phase = 'done'
        return dataset
      }
      return await this.chunked()
    } catch (e) {
      if (this.state.phase === 'paused') return null
      this.state.phase = 'failed'
      throw e
    }
  }

  pause(): void {
    this.state.phase = 'paused'
    this.abort?.abort()
  }

  private async chunked(): Promise<Dataset | null> {
    const saved = matchSaved(this.file, savedUploads())
    let missing: number[][]
    let uploadId: string
    const known = saved ? await getUpload(saved.uploadId).catch(() => null) : null
    if (known && known.status === 'open') {
      uploadId = known.id
      missing = known.missing
    } else {
      if (saved) forgetUpload(saved.uploadId)
      this.state.phase = 'hashing'
      const sha = await sha256Hex(this.file)
      const opened = await openUpload(this.file, this.namespace, sha)
      uploadId = opened.id
      missing = opened.missing
      saveUpload({
        uploadId, name: this.name, filename: this.file.name, size: this.file.size,
        lastModified: this.file.lastModified, namespace: this.namespace,
      })
    }
    this.state.uploadId = uploadId
    this.state.sent = receivedBytes(missing, this.file.size)
    this.state.phase = 'uploading'
    for (const chunk of planChunks(missing, tuned('conveyor.upload.chunkBytes', CHUNK_SIZE))) {
      if (this.state.phase !== 'uploading') return null
      this.abort = new AbortController()
      const answer = await putChunk(uploadId, this.file, chunk.start, chunk.end, this.abort.signal)
      this.state.sent = answer.received
    }
    this.state.phase = 'completing'
    const dataset = await completeUpload(uploadId, this.name)
    forgetUpload(uploadId)
    this.state.phase = 'done'
    return dataset
  }
}
