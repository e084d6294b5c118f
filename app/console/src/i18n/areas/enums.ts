import type { MessageArea } from '../areas'
import type { EnumWords } from '../enums'

/**
 * Words for the API's run enums, keyed by the code the API sends (read through enumLabel in ../enums.ts, which
 * falls back to the code itself for a value this console does not know yet).
 */
export default {
  key: 'enums',
  'zh-CN': {
    runStatus: {
      PENDING: '等待中',
      QUEUED: '排队中',
      RUNNING: '运行中',
      RETRYING: '重试中',
      SUCCEEDED: '成功',
      FAILED: '失败',
      CANCELLED: '已取消',
      TIMED_OUT: '超时',
      SKIPPED: '已跳过',
    },
    runKind: { pipeline: '流水线', ingest: '数据导入' },
    runTrigger: { api: 'API', batch: '批量提交', manual: '手动', schedule: '定时调度', backfill: '补跑' },
  } satisfies EnumWords,
  en: {
    runStatus: {
      PENDING: 'Pending',
      QUEUED: 'Queued',
      RUNNING: 'Running',
      RETRYING: 'Retrying',
      SUCCEEDED: 'Succeeded',
      FAILED: 'Failed',
      CANCELLED: 'Cancelled',
      TIMED_OUT: 'Timed out',
      SKIPPED: 'Skipped',
    },
    runKind: { pipeline: 'Pipeline', ingest: 'Import' },
    runTrigger: { api: 'API', batch: 'Batch', manual: 'Manual', schedule: 'Schedule', backfill: 'Backfill' },
  } satisfies EnumWords,
} satisfies MessageArea
