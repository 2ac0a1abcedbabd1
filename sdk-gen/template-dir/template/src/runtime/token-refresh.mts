/**
 * Token refresh on the open connection: `refresh_token` with a fresh token from the token source,
 * `beforeExpiryMs` before the session's `expiresAt` (or at half the remaining lifetime, whichever is
 * later). A failure is reported and tried again later; if the token runs out first, the server
 * closes with 4001 and the machine reconnects with a fresh token.
 */
import { host, MAX_TIMER_MS, type TimerHandle, type WebSocketLike } from './env.mjs'
import type { Emit, Report, Session, Settings } from './options.mjs'
import { ClientMessage, ServerMessage } from './protocol/index.js'
import type { Requests } from './requests.mjs'
import type { TokenSource } from './token.mjs'

/** What the refresh needs of the connection. */
export interface RefreshLink {
  readonly open: boolean
  readonly socket: WebSocketLike | undefined
  session: Session | undefined
}

export class TokenRefresh {
  private timer: TimerHandle | undefined

  constructor (
    private readonly settings: Settings,
    private readonly token: TokenSource,
    private readonly requests: Requests,
    private readonly link: RefreshLink,
    private readonly emit: Emit,
    private readonly report: Report,
  ) {}

  schedule (expiresAt: number | undefined): void {
    this.stop()
    const beforeMs = this.settings.refreshBeforeMs
    if (expiresAt === undefined || beforeMs === false || !this.token.renewable) return
    const left = expiresAt - Date.now()
    const delay = Math.max(left - beforeMs, left / 2, 1000)
    this.timer = host.setTimeout(() => { void this.refresh() }, Math.min(delay, MAX_TIMER_MS))
  }

  stop (): void {
    host.clearTimeout(this.timer)
    this.timer = undefined
  }

  private async refresh (): Promise<void> {
    const socket = this.link.socket
    if (!this.link.open || !this.token.renewable) return
    try {
      const token = await this.token.get()
      if (this.link.socket !== socket || !this.link.open) return
      const reply = await this.requests.internal(ClientMessage.RefreshToken, { token }, ServerMessage.TokenRefreshed, this.settings.requestTimeoutMs, undefined, true) as { expiresAt?: number }
      const session = this.link.session
      if (this.link.socket !== socket || session === undefined) return
      this.link.session = reply.expiresAt === undefined
        ? { connectionId: session.connectionId, userId: session.userId }
        : { ...session, expiresAt: reply.expiresAt }
      this.emit('tokenRefreshed', reply.expiresAt === undefined ? {} : { expiresAt: reply.expiresAt })
      this.schedule(reply.expiresAt)
    } catch (error) {
      if (this.link.socket !== socket) return
      this.report(error, 'token refresh')
      this.schedule(this.link.session?.expiresAt)
    }
  }
}
