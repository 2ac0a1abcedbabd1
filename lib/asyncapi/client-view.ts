/**
 * The same protocol from the client's view, for third-party client generators: the AsyncAPI
 * WebSocket client templates generate the side a document describes, so the client's document
 * `send`s `join_room` (`sendJoinRoom`) and `receive`s `room_joined` (`receiveRoomJoined`).
 * Messages, schemas, replies, servers and extensions are the server view's, unchanged.
 */
import type { AsyncApiDocument } from './build-document.js'
import { SERVER_VIEW } from './build-document.js'

const CLIENT_VIEW = 'This document is written from the **client\'s perspective**, for client generators: `send` operations are the messages a client sends to the server, `receive` operations are the messages it receives. The canonical document, from the server\'s perspective, is published beside it as `asyncapi.yaml` / `asyncapi.json`.'

const swapped = { send: 'receive', receive: 'send' } as const

/** `receiveJoinRoom` ↔ `sendJoinRoom`: the operation id names the action. */
function swapId (id: string, action: 'send' | 'receive'): string {
  return id.startsWith(action) ? swapped[action] + id.slice(action.length) : id
}

export function toClientView (server: AsyncApiDocument): AsyncApiDocument {
  const document = structuredClone(server) as AsyncApiDocument
  const operations: AsyncApiDocument['operations'] = {}
  for (const [id, operation] of Object.entries(document.operations)) {
    const action = operation.action as 'send' | 'receive'
    operations[swapId(id, action)] = { ...operation, action: swapped[action] }
  }
  document.operations = operations
  document.info.description = document.info.description.replace(SERVER_VIEW, CLIENT_VIEW)
  document['x-view'] = 'client'
  return document
}
