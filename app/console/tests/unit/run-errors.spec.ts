import { describe, expect, it } from 'vitest'
import { runErrorMessage } from '@/i18n/runErrors'
import { formatTime } from '@/utils/format'
import { namedTranslator } from './translator'

const LOST = { code: 'worker_lost', message: 'no heartbeat from worker:vm:10250 since 2026-12-05T16:40:43.574812+00:00' }

describe("a run error's message", () => {
  it("words the reaper's lost worker in zh-CN, the instant in the reader's time zone, not UTC to the microsecond", () => {
    const time = formatTime('2026-12-05T16:40:43.574Z', 'zh-CN')
    expect(runErrorMessage(LOST, namedTranslator('zh-CN').t, 'zh-CN')).toBe(`工作进程 worker:vm:10250 自 ${time} 起没有心跳`)
    expect(runErrorMessage(LOST, namedTranslator('en').t, 'en')).toBe(
      `No heartbeat from worker:vm:10250 since ${formatTime('2026-12-05T16:40:43.574Z', 'en')}`,
    )
  })

  it("leaves a step's own message, and any other, as written", () => {
    const step = { code: 'pipeline_step_failed', message: '上游文件缺失：/data/raw/2026-12-05.csv' }
    expect(runErrorMessage(step, namedTranslator('zh-CN').t, 'zh-CN')).toBe(step.message)
    expect(runErrorMessage({ code: 'worker_lost', message: 'lost' }, namedTranslator('zh-CN').t, 'zh-CN')).toBe('lost')
  })
})
