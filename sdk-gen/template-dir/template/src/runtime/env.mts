/**
 * The few host APIs the client uses, typed here so the package needs neither the DOM nor the
 * Node typings and runs unchanged in browsers, Node ≥ 22 and any runtime with timers.
 */

/** What the client needs from a WebSocket: the browser API, `ws`, and Node's global `WebSocket` all fit. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  /** `ws` only: drop the TCP connection without a closing handshake (used on a dead connection). */
  terminate?: () => void
  // `any` events: each implementation has its own event classes; the client reads only the fields below.
  onopen: ((event: any) => void) | null
  onmessage: ((event: any) => void) | null
  onclose: ((event: any) => void) | null
  onerror: ((event: any) => void) | null
}

/** A WebSocket class, e.g. `globalThis.WebSocket` or `ws`'s default export. */
export type WebSocketConstructor = new (url: string) => WebSocketLike

export type TimerHandle = unknown

interface EventTargetLike {
  addEventListener?(type: string, listener: () => void): void
  removeEventListener?(type: string, listener: () => void): void
}

interface Host extends EventTargetLike {
  setTimeout(callback: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
  setInterval(callback: () => void, ms: number): TimerHandle
  clearInterval(handle: TimerHandle): void
  WebSocket?: WebSocketConstructor
  document?: EventTargetLike & { readonly visibilityState?: string }
  console?: { error(...values: unknown[]): void }
}

export const host = globalThis as unknown as Host

/** Timers fire at once beyond 2^31−1 ms; longer waits are clamped (and re-armed by the caller). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Call `onWake` when the page comes back online or becomes visible (browsers only; a no-op
 * elsewhere). Returns the function that removes the listeners.
 */
export function listenForWake (onWake: () => void): () => void {
  const onVisibility = (): void => {
    if (host.document?.visibilityState === 'visible') onWake()
  }
  host.addEventListener?.('online', onWake)
  host.document?.addEventListener?.('visibilitychange', onVisibility)
  return () => {
    host.removeEventListener?.('online', onWake)
    host.document?.removeEventListener?.('visibilitychange', onVisibility)
  }
}
