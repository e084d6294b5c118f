/**
 * Filters that take an id (a deployment's, a dataset's, a user's) offer things by name: what a search found, and a
 * pasted id as itself, so a person never has to find a UUID to filter by but may still paste one.
 */

/** Something a filter may pick: its id, the name a person knows it by, and what it is when a search mixes kinds. */
export interface Named { id: string; name: string; kind?: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The id in what was typed or pasted (spaces around it, any case), or null when it is no UUID. */
export function pastedId(text: string): string | null {
  const trimmed = text.trim()
  return UUID.test(trimmed) ? trimmed.toLowerCase() : null
}

/** Those of `items` whose name holds `text` (any case): for a list whose API has no name search. */
export function named(items: Named[], text: string): Named[] {
  const wanted = text.trim().toLowerCase()
  return wanted ? items.filter((i) => i.name.toLowerCase().includes(wanted)) : items
}

/**
 * The options to show: what the search found; a pasted id that is not among them (as itself, so it may be picked);
 * and the one already picked, so a later search that no longer finds it still shows its name. Each id once.
 */
export function pickOptions(found: Named[], typed: string, picked: Named | null): Named[] {
  const options = [...found]
  const id = pastedId(typed)
  if (id && !options.some((o) => o.id === id)) options.unshift({ id, name: id })
  if (picked && !options.some((o) => o.id === picked.id)) options.push(picked)
  return options
}
