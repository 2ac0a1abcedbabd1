/** The members a broadcast skips, from the app's options (any iterables) to the adapter's arrays. */
import type { Exclusions } from './adapter.js'
import type { BroadcastOptions } from './define.js'

export function toExclusions (options: BroadcastOptions | undefined): Exclusions | undefined {
  const except = options?.except
  if (except === undefined) return undefined
  return {
    users: except.users === undefined ? undefined : [...except.users],
    connections: except.connections === undefined ? undefined : [...except.connections],
  }
}
