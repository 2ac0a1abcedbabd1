/**
 * What a load-generator client says to each variant, in that variant's own protocol. Every
 * variant delivers the same message: `{room, seq, payload: {userId, content, ts}}` in its framing,
 * where `content` starts with the publisher's send time (µs, monotonic clock shared by processes).
 */
export type VariantName = 'plugin' | 'ws' | 'socketio' | 'plugin-redis' | 'socketio-redis' | 'plugin-cluster' | 'socketio-cluster'

export interface Wire {
  /** URL of the WebSocket endpoint for a client holding `token`. */
  url(base: string, token: string): string
  /** Frames to send when the socket opens (may be none: see `onFrame`). */
  onOpen(room: string, token: string): string[]
  /**
   * A frame during setup: returns frames to send back, and whether the client is now joined.
   * Called only until joined; afterwards frames go to the cheap counter.
   */
  onSetupFrame(text: string, room: string, token: string): { send: string[], joined: boolean }
  /** A publish of `content` to `room`. */
  publish(room: string, content: string): string
  /** Is this frame (after setup) a room delivery? Must be cheap: first bytes only. */
  isDelivery(data: Buffer): boolean
  /** A frame that needs an answer after setup (Engine.IO ping), else undefined. */
  answer(data: Buffer): string | undefined
}

const pluginWire: Wire = {
  url: (base, token) => `${base}/ws?token=${token}`,
  onOpen: (room) => [JSON.stringify({ type: 'join_room', id: 'j', payload: { room } })],
  onSetupFrame: (text) => ({ send: [], joined: text.startsWith('{"type":"room_joined"') }),
  publish: (room, content) => '{"type":"message","payload":{"room":' + JSON.stringify(room) + ',"content":"' + content + '"}}',
  isDelivery: () => true,
  answer: () => undefined,
}

const wsWire: Wire = {
  url: (base, token) => `${base}/?token=${token}`,
  onOpen: (room) => [JSON.stringify({ type: 'join', room })],
  onSetupFrame: (text) => ({ send: [], joined: text.startsWith('{"type":"joined"') }),
  publish: (room, content) => '{"type":"message","room":' + JSON.stringify(room) + ',"content":"' + content + '"}',
  isDelivery: () => true,
  answer: () => undefined,
}

// Engine.IO 4 / Socket.IO 5 protocol over a plain WebSocket: "0{…}" open, "40" namespace
// connect (auth in the payload), "42[…]" event, "42<ack>[…]" event with ack, "43<ack>[…]" ack,
// "2"/"3" ping/pong.
const socketioWire: Wire = {
  url: (base) => `${base}/socket.io/?EIO=4&transport=websocket`,
  onOpen: () => [],
  onSetupFrame: (text, room, token) => {
    if (text.startsWith('0')) return { send: ['40' + JSON.stringify({ token })], joined: false }
    if (text.startsWith('40')) return { send: ['421' + JSON.stringify(['join', room])], joined: false }
    if (text === '2') return { send: ['3'], joined: false }
    return { send: [], joined: text.startsWith('431') }
  },
  publish: (room, content) => '42["message",{"room":' + JSON.stringify(room) + ',"content":"' + content + '"}]',
  isDelivery: (data) => data[0] === 0x34 && data[1] === 0x32,
  answer: (data) => (data.length === 1 && data[0] === 0x32 ? '3' : undefined),
}

export function wireOf (variant: VariantName): Wire {
  if (variant.startsWith('plugin')) return pluginWire
  if (variant === 'ws') return wsWire
  return socketioWire
}

const CONTENT_KEY = Buffer.from('"content":"')

/** The send time (µs) at the start of a delivery's `content`, or -1. No JSON parse. */
export function sentAtUs (data: Buffer): number {
  let i = data.indexOf(CONTENT_KEY)
  if (i < 0) return -1
  i += CONTENT_KEY.length
  let value = 0
  for (let c = data[i]; c !== undefined && c >= 0x30 && c <= 0x39; c = data[++i]) value = value * 10 + (c - 0x30)
  return value
}

export function nowUs (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/** A publish's content: send time, a space, then padding so the delivered frame is about `frameBytes`. */
export function contentFor (frameBytes: number): (at: number) => string {
  // Envelope around content is ~110 B in each variant (type, room, seq, userId, ts).
  const pad = 'x'.repeat(Math.max(1, frameBytes - 110 - 17))
  return (at) => String(at) + ' ' + pad
}
