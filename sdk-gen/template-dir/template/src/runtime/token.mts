/**
 * Where the client's token comes from: the `token` option, asked before every (re)connect and
 * every refresh. Whatever else needs the token (a REST half of the client, say) asks here too, so
 * coalescing concurrent asks into one call (single flight) has one place.
 */
import type { TokenProvider } from './options.mjs'

export class TokenSource {
  constructor (private readonly token: string | TokenProvider | undefined) {}

  /** Whether a fresh token can be asked for (`token` is a function): refresh and retry after 4001. */
  get renewable (): boolean {
    return typeof this.token === 'function'
  }

  /** A fixed token (or none) at once; a function is called. A throwing function rejects. */
  get (): string | undefined | Promise<string> {
    const token = this.token
    if (typeof token !== 'function') return token
    try {
      return Promise.resolve(token())
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
