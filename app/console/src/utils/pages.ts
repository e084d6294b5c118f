/**
 * Keyset "load more" over a filtered list. The API ties a cursor to the filters of the page it came from and
 * answers 400 `invalid_cursor` to one sent with others, so the next page must be asked with the filters the
 * list shows, not with ones typed into the form since and not yet applied.
 */
export class LoadMore<Q extends object> {
  private shown: Q | null = null

  /** The query of a page: a first one (`more` false) is asked with `current`, which the list then shows; the next
   * ones with the filters shown and `cursor`. */
  query(current: Q, more: boolean, cursor: string | null): Q & { cursor?: string } {
    if (!more || this.shown === null) {
      this.shown = current
      return current
    }
    return { ...this.shown, cursor: cursor ?? undefined }
  }
}
