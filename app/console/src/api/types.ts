/**
 * Names for the API's bodies, keyed by path and method (what openapi-fetch keys on), so the
 * console does not depend on the generated schema names, which follow the server's class names.
 */
import type { components, paths } from './schema'

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never
/** The 200/201 body of `method` on `path`. */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R
}
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer B }
      ? Json<B>
      : never
  : never
/** The query parameters of `method` on `path`. */
export type Query<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  parameters: { query?: infer Q }
}
  ? NonNullable<Q>
  : never

export type Me = Ok<'/api/v1/auth/me', 'get'>
export type Tokens = Ok<'/api/v1/auth/login', 'post'>
export type Namespace = Ok<'/api/v1/namespaces', 'get'> extends (infer N)[] ? N : never
export type Run = Ok<'/api/v1/runs/{run_id}', 'get'>
export type RunPage = Ok<'/api/v1/runs', 'get'>
export type RunQuery = Query<'/api/v1/runs', 'get'>
export type RunEvent = Ok<'/api/v1/runs/{run_id}/events', 'get'>['items'][number]
export type RunStatus = NonNullable<RunQuery['status']>[number]
/** A namespace role, as the API's RoleName enum lists them. */
export type Role = components['schemas']['RoleName']
/** A metric of the catalog, a time series' bucket, a dimension to split by: the API's enums. */
export type MetricName = components['schemas']['MetricName']
export type MetricBucket = components['schemas']['MetricBucket']
export type MetricDimension = components['schemas']['MetricDimension']

/** GET /metrics/summary: every metric over the window, runs by status, missed fire times by outcome, runs now. */
export type Summary = Ok<'/api/v1/metrics/summary', 'get'>
/** GET /metrics/timeseries: one series per key, each point [bucket start, value]. */
export type TimeSeries = Ok<'/api/v1/metrics/timeseries', 'get'>

/** One line of a run's log, as the log endpoints and the `log` SSE event carry it. */
export interface LogLine {
  n: number
  ts: string
  level: string
  message: string
  attempt: number
  step?: number | null
  /** A line Conveyor writes itself: its code and parameters, worded by the console (../i18n/notices.ts). */
  notice?: components['schemas']['LogLineOut']['notice']
}
