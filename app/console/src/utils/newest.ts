/**
 * Keeps a picker's searches in order: `ask()` numbers a new search and gives a check that says, once it answers,
 * whether it is still the newest one made, so a search that answers after a newer one was made (a slow or loaded API
 * answers in any order) is dropped instead of replacing the newer one's options.
 */
export class Newest {
  private asked = 0

  ask(): () => boolean {
    const mine = ++this.asked
    return () => mine === this.asked
  }
}
