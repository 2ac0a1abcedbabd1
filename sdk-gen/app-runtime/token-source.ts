/**
 * One token for the whole client: the REST half and the real-time half ask this source, never the
 * app's token function directly, so a refused or expiring token is replaced once (single flight),
 * however many requests and sockets noticed it at the same time.
 */

/** Returns the token to use; asked once at first use and once per refresh. */
export type AppTokenProvider = () => string | Promise<string>

export class TokenSource {
  private value: string | undefined
  private pending: Promise<string> | undefined

  constructor (private readonly token: string | AppTokenProvider | undefined) {
    this.value = typeof token === 'function' ? undefined : token
  }

  /** Whether a refused token can be replaced (only when the token is a function). */
  get refreshable (): boolean {
    return typeof this.token === 'function'
  }

  /** The current token; asks the token function the first time (callers at once share the answer). */
  current (): Promise<string | undefined> {
    if (this.pending !== undefined) return this.pending
    if (this.value !== undefined || typeof this.token !== 'function') return Promise.resolve(this.value)
    return this.ask(this.token)
  }

  /**
   * A fresh token because `stale` was refused or is about to expire. Asks the token function at
   * most once for everyone who saw `stale`: a refresh in flight is joined, and a token that was
   * already replaced since `stale` was handed out is returned as it is.
   */
  refresh (stale: string | undefined): Promise<string | undefined> {
    if (this.pending !== undefined) return this.pending
    if (typeof this.token !== 'function') return Promise.resolve(this.value)
    if (this.value !== undefined && this.value !== stale) return Promise.resolve(this.value)
    return this.ask(this.token)
  }

  private ask (provider: AppTokenProvider): Promise<string> {
    const pending = Promise.resolve().then(provider).then((token) => {
      if (typeof token !== 'string') throw new TypeError(`The token function returned ${typeof token}, not a string`)
      this.value = token
      return token
    })
    this.pending = pending
    const clear = (): void => { if (this.pending === pending) this.pending = undefined }
    pending.then(clear, clear)
    return pending
  }
}
