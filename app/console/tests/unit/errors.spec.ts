import { describe, expect, it } from 'vitest'
import { ApiError, readableMessage, unwrap } from '@/api/errors'
import { i18n } from '@/i18n'

describe('ApiError', () => {
  it('carries the problem detail, code and field errors', () => {
    const error = new ApiError(422, {
      detail: 'bad params',
      code: 'invalid_params',
      errors: [{ field: 'params.floor', message: 'must be a number' }, { nonsense: true }],
    })
    expect(error.detail).toBe('bad params')
    expect(error.code).toBe('invalid_params')
    expect(error.fieldError('params.floor')).toBe('must be a number')
    expect(error.errors).toHaveLength(1)
  })

  it("says a taken name or a missing user in the page's language, at the field too; other codes keep the API's text", () => {
    const taken = { detail: "the username 'wang' is taken", code: 'username_taken', errors: [{ field: 'username', message: 'taken' }] }
    i18n.global.locale.value = 'zh-CN'
    expect(new ApiError(409, taken).detail).toBe('这个用户名已被占用')
    expect(new ApiError(409, taken).fieldError('username')).toBe('这个用户名已被占用')
    expect(new ApiError(404, { detail: "user 'x' does not exist", code: 'user_not_found' }).detail).toBe('没有这个用户，请检查用户名')
    expect(new ApiError(409, { detail: 'a pipeline named x exists', code: 'pipeline_name_taken' }).detail).toContain('流水线')
    expect(new ApiError(409, { detail: 'something new', code: 'brand_new_code' }).detail).toBe('something new')
    const never = { detail: 'bad', code: 'schedule_never_fires', errors: [{ field: 'schedule.cron', message: 'matches no time in the next 8 years' }] }
    expect(new ApiError(422, never).fieldError('schedule.cron')).toContain('永远不会触发')
    i18n.global.locale.value = 'en'
    expect(new ApiError(409, taken).fieldError('username')).toBe('This username is taken')
    i18n.global.locale.value = 'zh-CN'
  })

  it('still says something for a body that is not a problem', () => {
    const error = new ApiError(502, 'Bad gateway')
    expect(error.code).toBe('http_502')
    expect(error.detail).toBe('HTTP 502')
  })

  it('unwrap returns the data of a success and throws on an error', () => {
    expect(unwrap({ data: 1, response: new Response(null, { status: 200 }) })).toBe(1)
    expect(() =>
      unwrap({ error: { detail: 'no', code: 'invalid_credentials' }, response: new Response(null, { status: 401 }) }),
    ).toThrow(ApiError)
  })
})

describe('readableMessage', () => {
  const t = (key: string, named: Record<string, unknown>) => `${key}(${String(named.others)})`

  it("says the API's name rule in words, with the characters it allows besides letters and digits", () => {
    // As msgspec writes it (the JSON's "\\\\-" decodes to two backslashes before the dash).
    const deployment = "Expected `str` matching regex '^(?:[A-Za-z0-9][A-Za-z0-9_.\\\\-]*)$(?!\\\\n)'"
    expect(readableMessage(deployment, t)).toBe('errors.nameRule(_ . -)')
    const tag = "Expected `str` matching regex '^(?:[A-Za-z0-9][A-Za-z0-9_.:\\\\-]*)$(?!\\\\n)' - at `$[1]`"
    expect(readableMessage(tag, t)).toBe('errors.nameRule(_ . : -)')
  })

  it("says the cron parser's refusals in the page language (zh-CN), naming the field", () => {
    const refused = (message: string) =>
      new ApiError(422, { code: 'invalid_cron', detail: `schedule.cron: ${message}`, errors: [{ field: 'schedule.cron', message }] }).fieldError('schedule.cron')
    expect(refused('minute: 61 is outside 0-59')).toBe('「分」字段：61 超出范围 0–59。')
    expect(refused('day of month: 32 is outside 1-31')).toBe('「日」字段：32 超出范围 1–31。')
    expect(refused('expected 5 fields (minute hour day month weekday) or 6 with seconds, got 4')).toBe(
      'Cron 表达式应有 5 段（分 时 日 月 周），或在最前加秒共 6 段；这里有 4 段。',
    )
    expect(refused("day of week: 'FOO' is not a number or a known name")).toBe('「周」字段：“FOO”不是数字，也不是可识别的名称。')
    expect(refused("minute: range '5-1' runs backwards")).toBe('「分」字段：范围 5-1 前大后小。')
    expect(refused('minute: step must be at least 1')).toBe('「分」字段：步长（/n）至少为 1。')
    expect(refused("day of month: an empty item in the list '1,,2'")).toBe('「日」字段：列表 1,,2 中有空项。')
  })

  it('leaves every other message as the API wrote it', () => {
    expect(readableMessage('must be a number', t)).toBe('must be a number')
  })

  it('reads a 422 validation_failed in the page language, and its name errors in words', () => {
    const error = new ApiError(422, {
      detail: 'the request body is not valid',
      code: 'validation_failed',
      errors: [{ field: 'name', message: "Expected `str` matching regex '^(?:[A-Za-z0-9][A-Za-z0-9_.\\\\-]*)$(?!\\\\n)'" }],
    })
    expect(error.detail).toBe('输入有误，请按标出的字段修改。')
    expect(error.fieldError('name')).toBe('名称只能使用英文字母、数字和 _ . -，并以字母或数字开头（不能用中文或空格）。')
  })
})
