/** The data center endpoints the Datasets pages call, over the one API client. */
import { api, bearer } from '@/api/client'
import { ApiError, unwrap } from '@/api/errors'
import type { Ok, Query } from '@/api/types'
import type { components } from '@/api/schema'

export type Dataset = Ok<'/api/v1/datasets/{dataset_id}', 'get'>
export type DatasetPage = Ok<'/api/v1/datasets', 'get'>
export type DatasetQuery = Query<'/api/v1/datasets', 'get'>
export type DatasetVersion = Ok<'/api/v1/datasets/{dataset_id}/versions', 'get'>['items'][number]
export type DatasetVersionPage = Ok<'/api/v1/datasets/{dataset_id}/versions', 'get'>
export type DatasetVersionQuery = Query<'/api/v1/datasets/{dataset_id}/versions', 'get'>
export type Upload = Ok<'/api/v1/uploads/{upload_id}', 'get'>
export type Preview = components['schemas']['Preview']
export type ImportConfig = components['schemas']['ImportConfig']
export type ColumnSpec = components['schemas']['ColumnSpec']
export type Rows = Ok<'/api/v1/datasets/{dataset_id}/rows', 'get'>
export type RowsQuery = Query<'/api/v1/datasets/{dataset_id}/rows', 'get'>

const path = (id: string) => ({ params: { path: { dataset_id: id } } })

export async function listDatasets(query: DatasetQuery): Promise<DatasetPage> {
  return unwrap(await api.GET('/api/v1/datasets', { params: { query } }))
}

export async function getDataset(id: string): Promise<Dataset> {
  return unwrap(await api.GET('/api/v1/datasets/{dataset_id}', path(id)))
}

/** A page of the dataset's versions, newest first (`run_id`: only the version that run wrote). */
export async function listVersions(id: string, query: DatasetVersionQuery = {}): Promise<DatasetVersionPage> {
  return unwrap(await api.GET('/api/v1/datasets/{dataset_id}/versions', { params: { path: { dataset_id: id }, query } }))
}

export async function deleteDataset(id: string): Promise<void> {
  const result = await api.DELETE('/api/v1/datasets/{dataset_id}', path(id))
  if (!result.response.ok) throw new ApiError(result.response.status, result.error)
}

export async function previewDataset(id: string, config: Partial<ImportConfig>, rows = 50): Promise<Preview> {
  return unwrap(
    await api.POST('/api/v1/datasets/{dataset_id}/preview', {
      params: { path: { dataset_id: id }, query: { rows } },
      body: config as Record<string, unknown>,
    }),
  )
}

/** Starts the import run; its id. */
export async function startImport(id: string, config: Partial<ImportConfig>): Promise<string> {
  const run = unwrap(
    await api.POST('/api/v1/datasets/{dataset_id}/imports', {
      params: { path: { dataset_id: id } },
      body: config as Record<string, unknown>,
    }),
  )
  return run.id
}

export async function datasetRows(id: string, query: RowsQuery): Promise<Rows> {
  return unwrap(await api.GET('/api/v1/datasets/{dataset_id}/rows', { params: { path: { dataset_id: id }, query } }))
}

/** One-shot multipart upload of a whole (small) file as a new dataset. */
export async function uploadWhole(file: File, name: string, namespace: string): Promise<Dataset> {
  const form = new FormData()
  form.append('name', name)
  form.append('file', file, file.name)
  const response = await fetch(`/api/v1/datasets?namespace=${encodeURIComponent(namespace)}`, {
    method: 'POST',
    headers: bearer(),
    body: form,
    credentials: 'same-origin',
  })
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) throw new ApiError(response.status, body)
  return body as Dataset
}

export async function openUpload(file: File, namespace: string, sha256: string | null): Promise<Upload> {
  return unwrap(
    await api.POST('/api/v1/uploads', { body: { filename: file.name, size: file.size, sha256, namespace } }),
  )
}

/** One page of uploads (50 unless `limit` says) whose file name holds `search` (any case; the API searches). */
export async function listUploads(query: Query<'/api/v1/uploads', 'get'> = {}): Promise<Ok<'/api/v1/uploads', 'get'>> {
  return unwrap(await api.GET('/api/v1/uploads', { params: { query: { limit: 50, ...query } } }))
}

export async function getUpload(id: string): Promise<Upload> {
  return unwrap(await api.GET('/api/v1/uploads/{upload_id}', { params: { path: { upload_id: id } } }))
}

/** Sends bytes [start, end) of `file` to the upload; END in Content-Range is inclusive. */
export async function putChunk(id: string, file: Blob, start: number, end: number, signal?: AbortSignal): Promise<Upload> {
  const response = await fetch(`/api/v1/uploads/${id}`, {
    method: 'PUT',
    headers: { ...bearer(), 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${start}-${end - 1}/${file.size}` },
    body: file.slice(start, end),
    credentials: 'same-origin',
    signal,
  })
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) throw new ApiError(response.status, body)
  return body as Upload
}

export async function completeUpload(id: string, name: string): Promise<Dataset> {
  return unwrap(
    await api.POST('/api/v1/uploads/{upload_id}/complete', { params: { path: { upload_id: id } }, body: { name, description: '', tags: [] } }),
  )
}

/**
 * Where a download link points (the browser sends the session cookie? no: a token, so fetch it as a blob). CSV comes
 * with a UTF-8 byte order mark, without which Excel on a Chinese Windows reads it as GBK and garbles every 中文.
 */
export function downloadUrl(id: string, format: string, version?: number | null): string {
  const query = new URLSearchParams({ format })
  if (version) query.set('version', String(version))
  if (format === 'csv') query.set('bom', 'true')
  return `/api/v1/datasets/${id}/download?${query.toString()}`
}

export function rejectsUrl(id: string, version: number, format = 'csv'): string {
  return `/api/v1/datasets/${id}/versions/${version}/rejects?format=${format}${format === 'csv' ? '&bom=true' : ''}`
}

/** Fetches a URL with the access token and saves the answer as a file (links cannot carry the bearer token). */
export async function saveDownload(url: string, fallbackName: string): Promise<void> {
  const response = await fetch(url, { headers: bearer(), credentials: 'same-origin' })
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null))
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)
  const name = match?.[1] ? decodeURIComponent(match[1]) : fallbackName
  const href = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = href
  link.download = name
  link.click()
  setTimeout(() => URL.revokeObjectURL(href), 1000)
}
