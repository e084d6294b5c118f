/** The pipeline endpoints the Pipelines pages call, over the one API client. */
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Ok, Query } from '@/api/types'

export type Pipeline = Ok<'/api/v1/pipelines/{pipeline_ref}', 'get'>
export type PipelinePage = Ok<'/api/v1/pipelines', 'get'>
/** A pipeline as the list shows it: no spec (read the pipeline for it), its step count instead. */
export type PipelineSummary = PipelinePage['items'][number]
export type PipelineVersionPage = Ok<'/api/v1/pipelines/{pipeline_ref}/versions', 'get'>
/** A version as the list shows it: no spec (GET …/versions/{version} has it). */
export type PipelineVersion = PipelineVersionPage['items'][number]
export type Diff = Ok<'/api/v1/pipelines/{pipeline_ref}/diff', 'get'>
export type Report = Ok<'/api/v1/pipelines/validate', 'post'>
export type Rows = Ok<'/api/v1/datasets/{dataset_id}/rows', 'get'>
export type InputPick = string | { dataset: string; version?: number | null }

let schemaPromise: Promise<Record<string, unknown>> | null = null

/** The language's JSON Schema, fetched once per page load. */
export function pipelineSchema(): Promise<Record<string, unknown>> {
  schemaPromise ??= api.GET('/api/v1/pipelines/schema').then((r) => unwrap(r) as Record<string, unknown>)
  schemaPromise.catch(() => (schemaPromise = null))
  return schemaPromise
}

/**
 * One page of pipelines (50 unless `limit` says), only those of `namespace` when one is given (else every namespace
 * the caller may see) and whose name holds `search` (any case) when one is given: the API filters both.
 */
export async function listPipelines(query: Query<'/api/v1/pipelines', 'get'> = {}): Promise<PipelinePage> {
  return unwrap(await api.GET('/api/v1/pipelines', { params: { query: { limit: 50, ...query } } }))
}

/** A pipeline by id, or by name within `namespace` (the API's default namespace when none is given). */
export async function getPipeline(ref: string, namespace?: string): Promise<Pipeline> {
  return unwrap(
    await api.GET('/api/v1/pipelines/{pipeline_ref}', { params: { path: { pipeline_ref: ref }, query: { namespace } } }),
  )
}

export async function getVersions(ref: string, cursor?: string): Promise<PipelineVersionPage> {
  return unwrap(
    await api.GET('/api/v1/pipelines/{pipeline_ref}/versions', {
      params: { path: { pipeline_ref: ref }, query: { cursor, limit: 50 } },
    }),
  )
}

export async function getDiff(ref: string, from: number, to: number): Promise<Diff> {
  return unwrap(
    await api.GET('/api/v1/pipelines/{pipeline_ref}/diff', { params: { path: { pipeline_ref: ref }, query: { from, to } } }),
  )
}

/** Check a draft as it would run in `namespace`: its inputs are that namespace's datasets. */
export async function validateSpec(spec: Record<string, unknown>, namespace: string): Promise<Report> {
  return unwrap(await api.POST('/api/v1/pipelines/validate', { body: { spec, namespace } as never }))
}

export async function createPipeline(name: string, spec: Record<string, unknown>, namespace: string): Promise<Pipeline> {
  return unwrap(await api.POST('/api/v1/pipelines', { body: { name, spec, namespace } as never }))
}

export async function saveVersion(ref: string, spec: Record<string, unknown>, message: string): Promise<Pipeline> {
  return unwrap(
    await api.PUT('/api/v1/pipelines/{pipeline_ref}', { params: { path: { pipeline_ref: ref } }, body: { spec, message } as never }),
  )
}

export async function runPipeline(
  ref: string,
  params: Record<string, unknown>,
  inputs: Record<string, InputPick>,
): Promise<string> {
  const result = await api.POST('/api/v1/pipelines/{pipeline_ref}/runs', {
    params: { path: { pipeline_ref: ref } },
    body: { params, inputs } as never,
  })
  return (unwrap(result) as { id: string }).id
}

export async function datasetRows(id: string, limit = 50): Promise<Rows> {
  return unwrap(await api.GET('/api/v1/datasets/{dataset_id}/rows', { params: { path: { dataset_id: id }, query: { limit } } }))
}
