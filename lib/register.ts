/**
 * The app's registration point for types: augment `Register` (re-exported by the plugin) to type
 * `app.ws`, `WsError` codes and per-connection data from the app's own declarations:
 *
 *   declare module 'fastify-ws-rooms' {
 *     interface Register { protocol: typeof protocol, connectionData: { plan: 'free' | 'pro' } }
 *   }
 *
 * Read structurally (no import of the protocol module), so every layer may use it without cycles.
 */
export interface Register {}

/** Server message schemas of the registered protocol (`{}` when none is registered). */
export type RegisteredServerSchemas = Register extends { protocol: { types: { server: infer S } } } ? S : {}
/** Client messages of the registered protocol (`{}` when none is registered). */
export type RegisteredClientMessages = Register extends { protocol: { types: { client: infer C } } } ? C : {}
/** Error codes the registered protocol declares with `.error()` (none when no protocol is registered). */
export type AppErrorCode = Register extends { protocol: { types: { errors: infer E } } } ? (E extends string ? E : never) : never
/**
 * What an app keeps per connection (`ctx.data`), set by `auth.authenticate` or an `onConnect` hook.
 * @default Record<string, unknown>
 */
export type ConnectionData = Register extends { connectionData: infer D } ? D : Record<string, unknown>
