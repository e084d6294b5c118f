/** The webhook endpoints the Settings → Webhooks pages call, over the one API client. */
import { api } from '@/api/client'
import { unwrap } from '@/api/errors'
import type { Ok, Query } from '@/api/types'
import type { components } from '@/api/schema'
import { getDeployment } from '@/deployments/api'
import { getPipeline } from '@/pipelines/api'
import type { Named } from '@/utils/pick'

export type Webhook = Ok<'/api/v1/webhooks/{webhook_id}', 'get'>
export type WebhookWithSecret = Ok<'/api/v1/webhooks', 'post'>
export type WebhookPage = Ok<'/api/v1/webhooks', 'get'>
export type NewWebhook = components['schemas']['NewWebhook']
export type WebhookPatch = components['schemas']['WebhookPatch']
export type EventType = NewWebhook['event_types'][number]
export type DeliveryPage = Ok<'/api/v1/webhooks/{webhook_id}/deliveries', 'get'>
export type Delivery = DeliveryPage['items'][number]
export type DeliveryDetail = Ok<'/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}', 'get'>
export type Attempt = DeliveryDetail['attempt_log'][number]

const path = (id: string) => ({ params: { path: { webhook_id: id } } })

/**
 * One page of subscriptions (50 unless `limit` says), only those of `namespace` when one is given and whose address
 * or description holds `search` (any case) when one is given: the API filters both.
 */
export async function listWebhooks(query: Query<'/api/v1/webhooks', 'get'> = {}): Promise<WebhookPage> {
  return unwrap(await api.GET('/api/v1/webhooks', { params: { query: { limit: 50, ...query } } }))
}

export async function getWebhook(id: string): Promise<Webhook> {
  return unwrap(await api.GET('/api/v1/webhooks/{webhook_id}', path(id)))
}

/** A new subscription; its answer carries the signing secret, only this once. */
export async function createWebhook(body: NewWebhook): Promise<WebhookWithSecret> {
  return unwrap(await api.POST('/api/v1/webhooks', { body }))
}

export async function updateWebhook(id: string, body: WebhookPatch): Promise<Webhook> {
  return unwrap(await api.PATCH('/api/v1/webhooks/{webhook_id}', { ...path(id), body }))
}

export async function deleteWebhook(id: string): Promise<void> {
  unwrap(await api.DELETE('/api/v1/webhooks/{webhook_id}', path(id)))
}

/** A new secret, shown once; the old one keeps signing beside it for the server's grace period. */
export async function rotateSecret(id: string): Promise<WebhookWithSecret> {
  return unwrap(await api.POST('/api/v1/webhooks/{webhook_id}/rotate-secret', { ...path(id), body: {} }))
}

export async function sendTest(id: string): Promise<Delivery> {
  return unwrap(await api.POST('/api/v1/webhooks/{webhook_id}/test', path(id)))
}

export async function listDeliveries(id: string, cursor?: string): Promise<DeliveryPage> {
  return unwrap(await api.GET('/api/v1/webhooks/{webhook_id}/deliveries', { params: { path: { webhook_id: id }, query: { cursor, limit: 50 } } }))
}

export async function getDelivery(id: string, deliveryId: string): Promise<DeliveryDetail> {
  return unwrap(await api.GET('/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}', { params: { path: { webhook_id: id, delivery_id: deliveryId } } }))
}

export async function redeliver(id: string, deliveryId: string): Promise<Delivery> {
  return unwrap(
    await api.POST('/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver', { params: { path: { webhook_id: id, delivery_id: deliveryId } } }),
  )
}

/** A thing read by id for its name: none for '', itself as its name when it cannot be read (gone, or not visible). */
async function nameOf(id: string, read: (id: string) => Promise<{ name: string }>): Promise<Named | null> {
  if (!id) return null
  return read(id).then(({ name }) => ({ id, name }), () => ({ id, name: id }))
}

/** The names of the pipeline and deployment a subscription is narrowed to, read by id to show them. */
export async function filterNames(pipelineId: string, deploymentId: string): Promise<{ pipeline: Named | null; deployment: Named | null }> {
  const [pipeline, deployment] = await Promise.all([nameOf(pipelineId, (id) => getPipeline(id)), nameOf(deploymentId, getDeployment)])
  return { pipeline, deployment }
}
