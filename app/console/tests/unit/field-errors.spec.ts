import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/errors'
import { belongsTo, messageFor, useFieldErrors } from '@/composables/useFieldErrors'

const problem = new ApiError(422, {
  detail: 'the run parameters are not valid',
  code: 'invalid_pipeline_params',
  errors: [
    { field: 'params.floor', message: 'expected an integer' },
    { field: 'params.days[1]', message: 'not a date' },
    { field: 'inputs.orders', message: 'no such dataset' },
    { field: 'priority', message: 'at most 9' },
  ],
})

describe('useFieldErrors', () => {
  it('matches a field, what is inside it, and nothing that merely shares its prefix', () => {
    expect(belongsTo('params.days[1]', 'params.days')).toBe(true)
    expect(belongsTo('params.floor.x', 'params.floor')).toBe(true)
    expect(belongsTo('params.floors', 'params.floor')).toBe(false)
    expect(messageFor(problem.errors, 'floor', ['params.floor'])).toBe('expected an integer')
    expect(messageFor(problem.errors, 'ceiling', ['params.ceiling'])).toBeUndefined()
  })

  it('places each error at its item and leaves the rest for the banner', () => {
    const form = useFieldErrors(() => ['params.floor', 'params.days', 'inputs.orders'])
    expect(form.error('params.floor')).toBeUndefined()
    expect(form.banner.value).toBeNull()
    form.fail(problem)
    expect(form.error('floor', 'params.floor')).toBe('expected an integer')
    expect(form.error('params.days')).toBe('not a date')
    expect(form.error('inputs.orders')).toBe('no such dataset')
    expect(form.banner.value).toBe('the run parameters are not valid · priority: at most 9')
    form.clear()
    expect(form.error('params.floor')).toBeUndefined()
  })

  it('keeps a failure that is not a problem (a network loss) as a banner with its text', () => {
    const form = useFieldErrors()
    const kept = form.fail(new TypeError('Failed to fetch'))
    expect(kept.status).toBe(0)
    expect(form.banner.value).toBe('Failed to fetch')
  })
})
