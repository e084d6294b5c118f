/**
 * What a run report says after a parameter besides its source: a missing or an undeclared parameter's API message
 * ("required, not given", "not declared") only repeats the source word the console already shows in the page's
 * language, so it is left out; a value that did not coerce keeps its message (the value's own error).
 */
export function paramNote(param: { source: string; message?: string | null }): string {
  return param.source === 'missing' || param.source === 'undeclared' ? '' : (param.message ?? '')
}
