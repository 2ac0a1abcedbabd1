import t from 'tap'
import { buildApp, connect } from './helpers/index.js'

const ALLOWED = 'https://chat.example.com'

t.test('with allowedOrigins, a browser handshake from an allowed origin connects', async (t) => {
  const server = await buildApp(t, { allowedOrigins: [ALLOWED, 'http://localhost:3000'] })
  const client = await connect(t, server, 'alice', { headers: { origin: ALLOWED } })
  t.ok(client.isOpen)
})

for (const origin of ['https://evil.example', 'https://chat.example.com.evil.example', 'http://chat.example.com', 'null']) {
  t.test(`with allowedOrigins, a handshake from ${origin} is refused with HTTP 403 before the upgrade`, async (t) => {
    const server = await buildApp(t, { allowedOrigins: [ALLOWED] })
    await t.rejects(connect(t, server, 'alice', { headers: { origin } }), /HTTP 403/)
    t.equal(server.app.ws.stats().connections, 0)
  })
}

t.test('the 403 comes before authentication: a valid token does not help, a missing one is not asked for', async (t) => {
  const server = await buildApp(t, { allowedOrigins: [ALLOWED] })
  await t.rejects(connect(t, server, 'alice', { token: null, headers: { origin: 'https://evil.example' } }), /HTTP 403/)
})

t.test('with allowedOrigins, a handshake without Origin (not a browser) is allowed', async (t) => {
  const server = await buildApp(t, { allowedOrigins: [ALLOWED] })
  const client = await connect(t, server, 'service')
  t.ok(client.isOpen)
})

t.test('allowedOrigins can be a function', async (t) => {
  const server = await buildApp(t, { allowedOrigins: (origin) => origin.endsWith('.example.com') })
  t.ok((await connect(t, server, 'alice', { headers: { origin: 'https://a.example.com' } })).isOpen)
  await t.rejects(connect(t, server, 'alice', { headers: { origin: 'https://example.org' } }), /HTTP 403/)
})

t.test('without allowedOrigins any origin connects (token auth is not ambient: a foreign page cannot present it)', async (t) => {
  const server = await buildApp(t)
  t.ok((await connect(t, server, 'alice', { headers: { origin: 'https://anywhere.example' } })).isOpen)
})

t.test('allowedOrigins must be an array of strings or a function', async (t) => {
  const Fastify = (await import('fastify')).default
  const { default: wsPlugin } = await import('../plugin.js')
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(wsPlugin, { auth: false, allowedOrigins: 'https://a.example' as never }) }, { code: 'WS_ERR_INVALID_OPTION' })
})
