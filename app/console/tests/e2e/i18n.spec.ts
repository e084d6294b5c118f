import { expect, test, type APIRequestContext } from '@playwright/test'
import { apiToken, shot, signIn, watchProblems } from './helpers'

/** What a person who reads Chinese sees: preview warnings and reasons, the run log and timeline, the runs list. */

async function made(request: APIRequestContext, headers: Record<string, string>, path: string, data: object): Promise<{ id: string }> {
  const response = await request.post(path, { headers, data })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: string }
}

test.setTimeout(240_000)

test('in zh-CN, a preview words its warnings and reasons, a run its log and timeline, the runs list its names', async ({ page, request }) => {
  const problems = watchProblems(page)
  const headers = { Authorization: `Bearer ${await apiToken(request)}` }
  const stamp = Date.now()
  const namespace = `i18n-${stamp}`
  await made(request, headers, '/api/v1/namespaces', { name: namespace })
  // The pipeline run below is made first, then 501 more: the runs list once named pipelines from one page of 500.
  const flaky = `zzz-flaky-${stamp}`
  const pipeline = await made(request, headers, '/api/v1/pipelines', {
    name: flaky, namespace, spec: { steps: [{ type: 'log', message: '用户自己的日志' }, { type: 'fail', message: 'boom' }] },
  })
  for (let start = 0; start < 501; start += 4) { // a few at a time: the API's database pool is small
    await Promise.all(Array.from({ length: Math.min(4, 501 - start) }, (_, i) => made(request, headers, '/api/v1/pipelines', {
      name: `bulk-${stamp}-${start + i}`, namespace, spec: { steps: [] },
    })))
  }
  const run = await made(request, headers, '/api/v1/runs', { pipeline: pipeline.id, max_retries: 1 })

  const uploaded = await request.post('/api/v1/datasets', {
    headers,
    multipart: {
      name: `账单-${stamp}`,
      file: { name: '账单.csv', mimeType: 'text/csv', buffer: Buffer.from('日期,摘要,金额,\n2026-01-01,午餐,12.5,\n2026-01-02,晚餐,25,\n合计,,37.5,\n') },
    },
  })
  expect(uploaded.status(), await uploaded.text()).toBe(201)
  const dataset = (await uploaded.json()) as { id: string }

  await signIn(page, 'zh-CN')

  // The preview: a warning and a suggestion's reason in Chinese, from their codes.
  await page.goto(`/datasets/${dataset.id}/configure`)
  // the trailing column with no header and no value is left out (947b8f8), said in Chinese
  await expect(page.locator('[data-test=preview-warning]').first()).toContainText('末尾 1 列（从第 4 列起）既无表头也无数据，已略去')
  const reason = page.locator('[data-test=suggestion-reason][data-code=summary_lines]')
  await expect(reason).toContainText('是合计行（“合计”），不是数据')
  await expect(page.locator('[data-test=preview]')).not.toContainText('has an empty header')
  await shot(page, 'preview-notices-zh-CN')

  // The run: the lines Conveyor writes and the timeline's reasons in Chinese; the pipeline's own line as written.
  await page.goto(`/runs/${run.id}`)
  const log = page.locator('[data-test=log]')
  await expect(page.locator('[data-test=log-ended]')).toHaveAttribute('data-status', 'FAILED', { timeout: 90_000 })
  await expect(log.locator('[data-code=attempt_started]').first()).toContainText('第 1 次尝试在')
  await expect(log.locator('[data-code=retry_scheduled]')).toContainText('第 1 次尝试失败：boom；')
  await expect(log.locator('[data-code=attempt_ended]').last()).toContainText('失败，用时')
  await expect(log).toContainText('用户自己的日志')
  await expect(log).not.toContainText('started on')
  const failed = page.locator('[data-test=timeline-reason][data-reason=failed]').first()
  await expect(failed).toContainText('失败')
  await expect(failed).toHaveAttribute('title', 'failed')
  await expect(page.locator('[data-test=timeline-reason][data-reason=created]')).toContainText('已创建')
  await expect(page.locator('[data-test=timeline-retry-at]')).toContainText('重试')
  await shot(page, 'run-log-zh-CN')

  // The runs list names the run's pipeline, though 501 pipelines were made after it.
  await page.goto('/runs')
  const row = page.locator('tr', { has: page.locator(`a[href="/runs/${run.id}"]`) })
  await expect(row.locator('[data-test=run-pipeline]')).toHaveText(flaky)
  expect(problems).toEqual([])
})
