/**
 * Heartbeat: while open, a `ping` after `idleMs` of silence from the server; a `pong` missing for
 * `timeoutMs` means a half-open connection, which is abandoned (and the machine reconnects).
 * States: stopped → watching (timer running) ⇄ pinging (one ping in flight) → stopped on any drop.
 */
import { host, type TimerHandle, type WebSocketLike } from './env.mjs'
import { RequestTimeoutError } from './errors.mjs'
import type { Settings } from './options.mjs'
import { ClientMessage, ServerMessage } from './protocol/index.js'
import type { Requests } from './requests.mjs'

/** What the heartbeat needs of the connection. */
export interface HeartbeatLink {
  readonly open: boolean
  readonly socket: WebSocketLike | undefined
  abandon (reason: string): void
}

export class Heartbeat {
  private timer: TimerHandle | undefined
  private lastFrameAt = 0
  private pinging = false

  constructor (private readonly settings: Settings, private readonly requests: Requests, private readonly link: HeartbeatLink) {}

  /** Any frame from the server shows the connection is alive. */
  noteFrame (): void {
    this.lastFrameAt = Date.now()
  }

  start (): void {
    const heartbeat = this.settings.heartbeat
    if (heartbeat === false) return
    this.lastFrameAt = Date.now()
    // Checking at half the idle time pings after 1–1.5× idleMs of silence.
    this.timer = host.setInterval(() => this.beat(false), Math.max(1, heartbeat.idleMs / 2))
  }

  stop (): void {
    host.clearInterval(this.timer)
    this.timer = undefined
    this.pinging = false
  }

  /** Ping when idle long enough, or now (`force`, e.g. the page woke up). */
  beat (force: boolean): void {
    const heartbeat = this.settings.heartbeat
    if (heartbeat === false || !this.link.open || this.pinging) return
    if (!force && Date.now() - this.lastFrameAt < heartbeat.idleMs) return
    const socket = this.link.socket
    this.pinging = true
    this.requests.internal(ClientMessage.Ping, {}, ServerMessage.Pong, heartbeat.timeoutMs, undefined, true).then(() => {
      if (this.link.socket === socket) this.pinging = false
    }, (error: unknown) => {
      if (this.link.socket !== socket) return
      this.pinging = false
      if (error instanceof RequestTimeoutError) this.link.abandon('Heartbeat timeout')
    })
  }
}
