/** The deployment endpoints the Deployments pages call, over the one API client. */
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Ok, Query } from '@/api/types'
import type { components } from '@/api/schema'

export type Deployment = Ok<'/api/v1/deployments/{deployment_id}', 'get'>
export type DeploymentPage = Ok<'/api/v1/deployments', 'get'>
export type DeploymentBody = components['schemas']['DeploymentIn']
export type OccurrencePage = Ok<'/api/v1/deployments/{deployment_id}/occurrences', 'get'>
export type Occurrence = OccurrencePage['items'][number]
export type Outcome = NonNullable<Query<'/api/v1/deployments/{deployment_id}/occurrences', 'get'>['outcome']>
export type BackfillBody = components['schemas']['BackfillIn']
export type BackfillPreview = Ok<'/api/v1/deployments/{deployment_id}/backfill/preview', 'post'>
export type Run = Ok<'/api/v1/deployments/{deployment_id}/trigger', 'post'>

const path = (id: string) => ({ params: { path: { deployment_id: id } } })

/**
 * One page of deployments (50 unless `limit` says), only those of `namespace` when one is given (404 if it is not
 * visible) and whose name holds `search` (any case) when one is given: the API filters both.
 */
export async function listDeployments(query: Query<'/api/v1/deployments', 'get'> = {}): Promise<DeploymentPage> {
  return unwrap(await api.GET('/api/v1/deployments', { params: { query: { limit: 50, ...query } } }))
}

export async function getDeployment(id: string): Promise<Deployment> {
  return unwrap(await api.GET('/api/v1/deployments/{deployment_id}', path(id)))
}

/** The next `n` fire times of a draft (nothing is saved); a 422 names the field at fault. */
export async function validateDraft(body: DeploymentBody, n = 5): Promise<string[]> {
  return unwrap(await api.POST('/api/v1/deployments/validate', { params: { query: { n } }, body })).fire_times
}

export async function createDeployment(body: DeploymentBody): Promise<Deployment> {
  return unwrap(await api.POST('/api/v1/deployments', { body }))
}

/** PATCH takes every field of create but the name, pipeline and namespace; max_retries may not be reset to null. */
export async function updateDeployment(id: string, body: DeploymentBody): Promise<Deployment> {
  const fixed = new Set(['name', 'pipeline', 'namespace', 'enabled'])
  const patch = Object.fromEntries(
    Object.entries(body).filter(([key, value]) => !fixed.has(key) && !(key === 'max_retries' && value === null)),
  )
  return unwrap(await api.PATCH('/api/v1/deployments/{deployment_id}', { ...path(id), body: patch as never }))
}

export async function pauseDeployment(id: string): Promise<Deployment> {
  return unwrap(await api.POST('/api/v1/deployments/{deployment_id}/pause', path(id)))
}

export async function resumeDeployment(id: string): Promise<Deployment> {
  return unwrap(await api.POST('/api/v1/deployments/{deployment_id}/resume', path(id)))
}

export async function deleteDeployment(id: string): Promise<void> {
  unwrap(await api.DELETE('/api/v1/deployments/{deployment_id}', path(id)))
}

export async function triggerDeployment(id: string, params: Record<string, unknown>): Promise<Run> {
  return unwrap(
    await api.POST('/api/v1/deployments/{deployment_id}/trigger', {
      ...path(id),
      body: { params },
      headers: { 'Idempotency-Key': crypto.randomUUID() },
    }),
  )
}

export async function upcoming(id: string, n = 10): Promise<string[]> {
  return unwrap(await api.GET('/api/v1/deployments/{deployment_id}/upcoming', { params: { path: { deployment_id: id }, query: { n } } }))
    .fire_times
}

export async function occurrences(id: string, outcome: Outcome | null, cursor?: string, limit = 50): Promise<OccurrencePage> {
  return unwrap(
    await api.GET('/api/v1/deployments/{deployment_id}/occurrences', {
      params: { path: { deployment_id: id }, query: { outcome: outcome ?? undefined, cursor, limit } },
    }),
  )
}

export async function previewBackfill(id: string, body: BackfillBody): Promise<BackfillPreview> {
  return unwrap(await api.POST('/api/v1/deployments/{deployment_id}/backfill/preview', { ...path(id), body }))
}

export async function backfill(id: string, body: BackfillBody): Promise<number> {
  return unwrap(await api.POST('/api/v1/deployments/{deployment_id}/backfill', { ...path(id), body })).runs.length
}
