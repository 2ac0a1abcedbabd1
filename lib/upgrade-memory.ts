/**
 * Per-connection memory that outlives the upgrade. The upgrade request's `ServerResponse` (created
 * by @fastify/websocket, never sent) stays attached to the TCP socket as `_httpMessage`, and with
 * it the Fastify request and reply, the IncomingMessage and its headers: about 3 KB per
 * connection, for as long as the connection lives. Nothing uses them after the upgrade.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** Detach the never-sent upgrade response from the socket (what Node does once a response ends). */
export function releaseUpgradeResponse (socket: Socket | null | undefined): void {
  const response = (socket as (Socket & { _httpMessage?: ServerResponse | null }) | null | undefined)?._httpMessage
  if (response !== undefined && response !== null && typeof response.detachSocket === 'function') response.detachSocket(socket!)
}
