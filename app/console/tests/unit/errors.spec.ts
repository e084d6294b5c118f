import { describe, expect, it } from 'vitest'
import { ApiError, unwrap } from '@/api/errors'

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
