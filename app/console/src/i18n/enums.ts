/**
 * The API's enum codes as words a person reads (run status, kind, trigger, error, audit action), in the page's locale.
 * The words live in ./areas/enums.ts; the code stays the truth: components put it in `title` and `data-status`,
 * filters send it to the API, charts key their colours by it.
 */
import { useI18n } from 'vue-i18n'
import type { components } from '@/api/schema'
import type { Run, RunStatus } from '@/api/types'

/**
 * Every code a run's `error.code` can hold: the worker's own (cancel, timeout, shutdown, lost lease, crash), the
 * pipeline's and the import's domain errors (app/pipeline, app/ingest, app/storage), and the generic ones a domain
 * call inside a run may raise. The API types it as a string, so a code missing here still shows, as itself.
 * tests/unit/test_console_codes.py checks this list, and AUDIT_ACTIONS, against the backend's source.
 */
export const RUN_ERROR_CODES = [
  // workers/outcomes.py, workers/*_job.py, scheduler/reaper.py, sql/queries/schedule.sql
  'cancelled', 'timeout', 'worker_shutdown', 'worker_lost', 'internal_error', 'database_unavailable',
  // app/pipeline (errors.py, spec.py, steps.py, relations.py, params.py)
  'pipeline_failed', 'pipeline_step_failed', 'pipeline_cancelled', 'sandbox_violation', 'data_validation_failed',
  'pipeline_inputs_mismatch', 'pipeline_template_error', 'invalid_pipeline_spec', 'invalid_pipeline_params',
  'memory_limit_exceeded', 'pipeline_process_died',
  // app/ingest (errors.py, sniff.py, excel_reader.py, json_reader.py, json_depth.py, csv_problems.py, number_range.py)
  'import_failed', 'import_cancelled', 'invalid_import_config', 'unsupported_media_type', 'content_mismatch',
  'empty_file', 'limit_exceeded', 'corrupt_file', 'encrypted', 'empty_workbook', 'empty_sheet', 'no_records',
  'too_deep', 'duplicate_key', 'csv_dialect_unknown', 'number_out_of_range',
  // app/storage/errors.py
  'storage_unavailable', 'storage_misconfigured',
  // app/core/errors.py: what any domain call may raise
  'validation_failed', 'not_found', 'conflict', 'unavailable',
] as const
export type RunErrorCode = (typeof RUN_ERROR_CODES)[number]

/** Every action the API writes to the audit log (`audit.record(action=...)` and the routes' `opt={"action": ...}`). */
export const AUDIT_ACTIONS = [
  'auth.login', 'auth.logout', 'auth.refresh',
  'users.create', 'users.disable', 'users.enable', 'users.reset_password', 'users.register', 'users.update_profile',
  'users.change_password',
  'tokens.create', 'tokens.revoke',
  'namespaces.create', 'members.set', 'members.remove', 'invites.create', 'invites.revoke',
  'pipelines.create', 'pipelines.update', 'pipelines.archive', 'pipelines.run',
  'deployments.create', 'deployments.update', 'deployments.delete', 'deployments.pause', 'deployments.resume',
  'deployments.trigger', 'deployments.backfill',
  'runs.submit', 'runs.cancel', 'runs.retry',
  'uploads.create', 'uploads.put', 'uploads.complete',
  'datasets.create', 'datasets.update', 'datasets.delete', 'datasets.import',
  'webhooks.create', 'webhooks.update', 'webhooks.delete', 'webhooks.rotate_secret', 'webhooks.test',
  'webhooks.redeliver', 'webhooks.disable',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** What each group's codes are: a group is one top-level key under `enums` in the messages. */
export interface EnumGroups {
  runStatus: RunStatus
  runKind: Run['kind']
  runTrigger: Run['trigger']
  /** Why a run changed state (a timeline event's `reason`). */
  runEventReason: components['schemas']['RunEventOut']['reason']
  runError: RunErrorCode
  auditAction: AuditAction
}
export type EnumGroup = keyof EnumGroups

type Area<C extends string> = C extends `${infer A}.${string}` ? A : never
type Verb<C extends string, A extends string> = C extends `${A}.${infer V}` ? V : never
/** Audit words nest by area (`pipelines.create` → pipelines: { create }): vue-i18n reads a dotted key as that path. */
export type AuditWords = { [A in Area<AuditAction>]: Record<Verb<AuditAction, A>, string> }
/** One locale's words: every code of every group (the compiler checks the messages against these lists). */
export type EnumWords = { [G in Exclude<EnumGroup, 'auditAction'>]: Record<EnumGroups[G], string> } & { auditAction: AuditWords }

/** The two calls of vue-i18n the label needs (a Composer has them; a test may pass its own). */
export interface Translator {
  t: (key: string) => string
  te: (key: string) => boolean
}

/** The word for `code` in `group`; a code with no word (a newer API's value) reads as itself, never as blank. */
export function enumLabel(i18n: Translator, group: EnumGroup, code: string | null | undefined): string {
  if (!code) return code ?? ''
  const key = `enums.${group}.${code}`
  return i18n.te(key) ? i18n.t(key) : code
}

/** enumLabel bound to the component's i18n, so a template re-renders when the locale switches. */
export function useEnumLabel(): <G extends EnumGroup>(group: G, code: EnumGroups[G] | string | null | undefined) => string {
  const { t, te } = useI18n()
  return (group, code) => enumLabel({ t, te }, group, code)
}
