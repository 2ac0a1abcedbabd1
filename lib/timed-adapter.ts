/**
 * An adapter whose commands report how long they waited for the backend (for metrics). Only
 * commands that answer with a promise are timed: a synchronous answer (the memory adapter) had
 * nothing to wait for. Every other property is the adapter's own, and every method — optional
 * ones included, present or absent exactly as on the adapter — gets all its arguments, so the
 * wrapper can never hide a capability (an epoch, history paging) from the hub.
 */
import { isPromise, type Adapter } from './adapter.js'

type Observe = (command: string, seconds: number) => void

/** Lifecycle and figures, not commands. */
const UNTIMED: ReadonlySet<PropertyKey> = new Set(['init', 'close', 'stats'])

export function timeAdapter (adapter: Adapter, observe: Observe): Adapter {
  const wrappers = new Map<PropertyKey, (...args: unknown[]) => unknown>()
  return new Proxy(adapter, {
    get (target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      let wrapper = wrappers.get(property)
      if (wrapper === undefined) {
        const method = value as (...args: unknown[]) => unknown
        wrapper = UNTIMED.has(property) || typeof property !== 'string'
          ? (...args) => method.apply(target, args)
          : (...args) => {
              const started = performance.now()
              const result = method.apply(target, args)
              if (!isPromise(result)) return result
              const done = (): void => { observe(property, (performance.now() - started) / 1000) }
              result.then(done, done)
              return result
            }
        wrappers.set(property, wrapper)
      }
      return wrapper
    },
  })
}
