import { describe, expect, it } from 'vitest'
import { AUDIT_ACTIONS, RUN_ERROR_CODES, enumLabel } from '@/i18n/enums'
import { STATUSES } from '@/stores/runs'
import { translator } from './translator'

describe('enumLabel', () => {
  it('names run statuses, kinds and triggers in zh-CN', () => {
    const zh = translator('zh-CN')
    expect(enumLabel(zh, 'runStatus', 'SUCCEEDED')).toBe('成功')
    expect(enumLabel(zh, 'runStatus', 'FAILED')).toBe('失败')
    expect(enumLabel(zh, 'runStatus', 'TIMED_OUT')).toBe('超时')
    expect(enumLabel(zh, 'runKind', 'ingest')).toBe('数据导入')
    expect(enumLabel(zh, 'runTrigger', 'schedule')).toBe('定时调度')
  })

  it('names them in en', () => {
    const en = translator('en')
    expect(enumLabel(en, 'runStatus', 'SUCCEEDED')).toBe('Succeeded')
    expect(enumLabel(en, 'runStatus', 'TIMED_OUT')).toBe('Timed out')
    expect(enumLabel(en, 'runKind', 'pipeline')).toBe('Pipeline')
    expect(enumLabel(en, 'runTrigger', 'backfill')).toBe('Backfill')
  })

  it('has a word, not the code, for every status the runs filter offers, in both locales', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const words = STATUSES.map((status) => enumLabel(translator(locale), 'runStatus', status))
      expect(words.filter((word, i) => word === STATUSES[i]), locale).toEqual([])
      expect(new Set(words).size, locale).toBe(STATUSES.length)
    }
  })

  it('shows a code it does not know (a newer API) as the code itself, never blank', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const i18n = translator(locale)
      expect(enumLabel(i18n, 'runStatus', 'PAUSED')).toBe('PAUSED')
      expect(enumLabel(i18n, 'runTrigger', 'webhook')).toBe('webhook')
      // A name every object has is no message either.
      expect(enumLabel(i18n, 'runStatus', 'toString')).toBe('toString')
    }
    expect(enumLabel(translator('en'), 'runStatus', '')).toBe('')
    expect(enumLabel(translator('en'), 'runStatus', null)).toBe('')
  })
})

/**
 * The codes a run can fail with, as extracted from the backend on 2026-12-05: the `code = "..."` / `code="..."` of the
 * errors raised under app/ingest, app/pipeline and app/storage (ImportFailed, ContentMismatch, ... with their own
 * codes), the worker's literals (workers/outcomes.py: cancelled, timeout, worker_shutdown, worker_lost;
 * workers/*_job.py: internal_error; scheduler/reaper.py: worker_lost) and app/core/errors.py's generic codes.
 */
const EXTRACTED_RUN_ERRORS = [
  'cancelled', 'conflict', 'content_mismatch', 'corrupt_file', 'csv_dialect_unknown', 'data_validation_failed',
  'database_unavailable',
  'duplicate_key', 'empty_file', 'empty_sheet', 'empty_workbook', 'encrypted', 'import_cancelled', 'import_failed',
  'internal_error', 'invalid_import_config', 'invalid_pipeline_params', 'invalid_pipeline_spec', 'limit_exceeded',
  'memory_limit_exceeded', 'no_records', 'not_found', 'number_out_of_range', 'pipeline_cancelled', 'pipeline_failed', 'pipeline_inputs_mismatch',
  'pipeline_process_died', 'pipeline_step_failed', 'pipeline_template_error', 'sandbox_violation', 'storage_misconfigured',
  'storage_unavailable', 'timeout', 'too_deep', 'unavailable', 'unsupported_media_type', 'validation_failed',
  'worker_lost', 'worker_shutdown',
]
/** Every `action=` the backend audits (grep "action=" and `"action": ` under app/domain and app/api/controllers). */
const EXTRACTED_AUDIT_ACTIONS = [
  'auth.login', 'auth.logout', 'auth.refresh', 'datasets.create', 'datasets.delete', 'datasets.import',
  'datasets.update', 'deployments.backfill', 'deployments.create', 'deployments.delete', 'deployments.pause',
  'deployments.resume', 'deployments.trigger', 'deployments.update', 'invites.create', 'invites.revoke',
  'members.remove', 'members.set', 'namespaces.create', 'pipelines.archive', 'pipelines.create', 'pipelines.run',
  'pipelines.update', 'runs.cancel', 'runs.retry', 'runs.submit', 'tokens.create', 'tokens.revoke',
  'uploads.complete', 'uploads.create', 'uploads.put', 'users.change_password', 'users.create', 'users.disable',
  'users.enable', 'users.register', 'users.reset_password', 'users.update_profile', 'webhooks.create',
  'webhooks.delete', 'webhooks.disable', 'webhooks.redeliver', 'webhooks.rotate_secret', 'webhooks.test',
  'webhooks.update',
]

describe('run error codes and audit actions', () => {
  it('knows exactly the codes extracted from the backend', () => {
    expect([...RUN_ERROR_CODES].sort()).toEqual(EXTRACTED_RUN_ERRORS)
    expect([...AUDIT_ACTIONS].sort()).toEqual(EXTRACTED_AUDIT_ACTIONS)
  })

  it('has a word of its own, not the code, for each of them in both locales', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const i18n = translator(locale)
      for (const [group, codes] of [['runError', RUN_ERROR_CODES], ['auditAction', AUDIT_ACTIONS]] as const) {
        const words = codes.map((code) => enumLabel(i18n, group, code))
        expect(words.filter((word, i) => word === codes[i]), `${locale} ${group}`).toEqual([])
        expect(new Set(words).size, `${locale} ${group}`).toBe(codes.length)
      }
    }
  })

  it('names them: the run page heading and the audit log read words', () => {
    expect(enumLabel(translator('zh-CN'), 'runError', 'invalid_pipeline_spec')).toBe('流水线定义无效')
    expect(enumLabel(translator('en'), 'runError', 'worker_lost')).toBe('Worker lost')
    expect(enumLabel(translator('zh-CN'), 'auditAction', 'pipelines.create')).toBe('创建流水线')
    expect(enumLabel(translator('en'), 'auditAction', 'users.reset_password')).toBe('Reset password')
  })

  it('shows an unknown error code or action as itself', () => {
    const zh = translator('zh-CN')
    expect(enumLabel(zh, 'runError', 'brand_new_code')).toBe('brand_new_code')
    expect(enumLabel(zh, 'auditAction', 'pipelines.rename')).toBe('pipelines.rename')
    expect(enumLabel(zh, 'auditAction', 'robots.dance')).toBe('robots.dance')
    expect(enumLabel(zh, 'auditAction', 'pipelines')).toBe('pipelines') // an area alone is no action
  })
})
