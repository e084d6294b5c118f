/**
 * Field errors of a failed submit, placed next to their form items: a 422 problem's `errors` ({field, message})
 * are matched to the fields a form shows (an error on `params.floor[0]` belongs to `params.floor`), and what no
 * field shows is left for the form's banner, so nothing the server said is lost.
 */
import { computed, ref, type ComputedRef, type Ref } from 'vue'
import { ApiError, type FieldError } from '@/api/errors'

/** Whether an error reported at `path` belongs to the form item for `field` (itself or something inside it). */
export function belongsTo(path: string, field: string): boolean {
  return path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`)
}

/** The first message for `field` (or any of its `aliases`, e.g. `floor` and `params.floor`), or undefined. */
export function messageFor(errors: readonly FieldError[], field: string, aliases: readonly string[] = []): string | undefined {
  const names = [field, ...aliases]
  return errors.find((e) => names.some((name) => belongsTo(e.field, name)))?.message
}

export interface FieldErrors {
  /** The last failure, or null after `clear()` or a success. */
  problem: Ref<ApiError | null>
  /** The message to show under the form item for `field` (pass it to ElFormItem's `error`). */
  error: (field: string, ...aliases: string[]) => string | undefined
  /** Keep a failure: an ApiError as is, anything else (a network loss) as a problem with its text. */
  fail: (exc: unknown) => ApiError
  clear: () => void
  /** The banner's text: the problem's detail, plus every field error that none of `shown` places. */
  banner: ComputedRef<string | null>
}

/** `shown`: the fields (or field prefixes) this form has an item for; errors elsewhere go to the banner. */
export function useFieldErrors(shown: () => readonly string[] = () => []): FieldErrors {
  const problem = ref<ApiError | null>(null)

  function error(field: string, ...aliases: string[]): string | undefined {
    return problem.value ? messageFor(problem.value.errors, field, aliases) : undefined
  }

  function fail(exc: unknown): ApiError {
    problem.value = exc instanceof ApiError ? exc : new ApiError(0, { detail: exc instanceof Error ? exc.message : String(exc) })
    return problem.value
  }

  const banner = computed(() => {
    const p = problem.value
    if (!p) return null
    const fields = shown()
    const rest = p.errors.filter((e) => !fields.some((f) => belongsTo(e.field, f)))
    return [p.detail, ...rest.map((e) => `${e.field}: ${e.message}`)].join(' · ')
  })

  return { problem, error, fail, clear: () => (problem.value = null), banner }
}
