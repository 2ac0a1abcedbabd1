/**
 * The serialised documents the routes served, by view, format and request origin (scheme and
 * host), for when each origin gets its own copy (no configured servers: the `default` server is
 * the request's host). `Host` is the client's to choose, so the cache is bounded: a client cycling
 * through made-up hosts only evicts entries (least recently used first), it never grows memory.
 */
import { LruMap } from 'toad-cache'
import type { AsyncApiView, RequestOrigin } from './served-document.js'

export type DocumentFormat = 'json' | 'yaml'

/** Enough for every view and format of a few names of the app (its public host, localhost, an IP). */
export const SERVED_CACHE_ENTRIES = 16

export class ServedDocuments {
  private readonly texts: LruMap<string>

  constructor (readonly maxEntries = SERVED_CACHE_ENTRIES) {
    this.texts = new LruMap<string>(maxEntries)
  }

  get size (): number {
    return this.texts.size
  }

  /** The cached text, or `serialise()`'s (cached unless it is undefined: the origin changes nothing). */
  text (view: AsyncApiView, format: DocumentFormat, origin: RequestOrigin, serialise: () => string | undefined): string | undefined {
    const key = `${view} ${format} ${origin.protocol} ${origin.host}`
    let text = this.texts.get(key)
    if (text === undefined) {
      text = serialise()
      if (text !== undefined) this.texts.set(key, text)
    }
    return text
  }
}
