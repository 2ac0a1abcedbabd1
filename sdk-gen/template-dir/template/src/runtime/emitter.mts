/** A minimal typed event emitter: `on(event, listener)` returns the function that removes it. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>()

  on<K extends keyof Events> (event: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) this.listeners.set(event, set = new Set())
    set.add(listener as (event: never) => void)
    return () => { set.delete(listener as (event: never) => void) }
  }

  /** Returns false when nobody listens. Listener errors are passed to `onListenerError`. */
  emit<K extends keyof Events> (event: K, value: Events[K], onListenerError: (error: unknown) => void): boolean {
    const set = this.listeners.get(event)
    if (set === undefined || set.size === 0) return false
    for (const listener of [...set]) {
      try {
        (listener as (event: Events[K]) => void)(value)
      } catch (error) {
        onListenerError(error)
      }
    }
    return true
  }
}
