/** API errors are application/problem+json with a stable `code`; this turns them into one class. */

export interface FieldError {
  field: string
  message: string
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors: FieldError[]

  constructor(status: number, body: unknown) {
    const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const detail = typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.detail = detail
    this.code = typeof problem.code === 'string' ? problem.code : `http_${status}`
    this.errors = Array.isArray(problem.errors)
      ? problem.errors.filter(
          (e): e is FieldError =>
            typeof e === 'object' && e !== null && typeof (e as FieldError).field === 'string',
        )
      : []
  }

  /** The message of the first error on `field`, to show next to that input. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message
  }
}

/** openapi-fetch's result, or an ApiError thrown when the API answered with an error. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error)
  }
  return result.data as T
}
