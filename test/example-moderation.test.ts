/**
 * The example's moderation: a moderator removes a user from a room from the chat page (a REST
 * route calling `app.ws.removeFromRoom`). The route's rules over HTTP, then the whole flow in
 * headless Chromium with two users.
 */
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import t from 'tap'
import { buildChatApp } from '../examples/chat/app.js'
import { prepareChatPage } from '../examples/chat/web-build.js'
import { registerChatPage } from '../examples/chat/web-routes.js'
import { launchBrowser } from './helpers/browser.js'
import { connect, joined, SECRET, tokenFor } from './helpers/index.js'
import { tempDir } from './helpers/sdk.js'

const assets = await prepareChatPage({ cacheDir: await tempDir(t, 'chat-page-'), log: () => {} })

async function startServer (): Promise<{ app: Awaited<ReturnType<typeof buildChatApp>>, port: number, url: string }> {
  const app = await buildChatApp({ jwtSecret: SECRET, logger: false })
  await registerChatPage(app, { assets })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  return { app, port, url: `ws://127.0.0.1:${port}/ws` }
}

t.test('only a moderator\'s token may remove a user from a room; the user is told why', async (t) => {
  const server = await startServer()
  const bob = await connect(t, { ...server }, 'bob')
  await joined(bob, 'general')
  const remove = async (token?: string) => await server.app.inject({
    method: 'POST',
    url: '/rooms/general/members/bob/remove',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  t.equal((await remove()).statusCode, 401, 'no token')
  t.equal((await remove(tokenFor('alice'))).statusCode, 403, 'not a moderator')
  t.equal((await remove(tokenFor('alice', { secret: 'another-secret', claims: { moderator: true } }))).statusCode, 401, 'a token the app did not sign')
  t.same(await server.app.ws.members('general'), ['bob'], 'refused requests changed nothing')

  const moderatorToken = (await server.app.inject({ method: 'POST', url: '/dev/token', payload: { name: 'alice', moderator: true } })).json().token
  t.equal((await remove(moderatorToken)).statusCode, 204)
  t.same((await bob.waitFor('room_removed')).payload, { room: 'general', reason: 'Removed by moderator alice' })
  t.same(await server.app.ws.members('general'), [])
})

t.test('a moderator removes a user from the page, whose page says why; a room the server adds shows as joined', async (t) => {
  const server = await startServer()
  const browser = await launchBrowser(t)
  const pageErrors: string[] = []
  async function signIn (name: string, asModerator: boolean): Promise<Page> {
    const page = await (await browser.newContext()).newPage()
    page.setDefaultTimeout(5000)
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`))
    await page.goto(`http://127.0.0.1:${server.port}/?reconnectBaseMs=50&reconnectMaxMs=100`)
    await page.fill('#name-input', name)
    if (asModerator) await page.check('#moderator-input')
    await page.click('#signin-form button[type="submit"]')
    await page.waitForSelector('#room-toggle:text("Leave")')
    return page
  }
  const alice = await signIn('alice', true)
  const bob = await signIn('bob', false)
  await alice.waitForSelector('#members .member[data-user="bob"]')
  t.equal(await bob.locator('#members .remove').count(), 0, 'no Remove buttons for a user who is not a moderator')
  t.equal(await alice.locator('#members .member[data-user="alice"] .remove').count(), 0, 'none next to oneself')

  await alice.click('#members .member[data-user="bob"] .remove')
  await bob.locator('#messages .note').filter({ hasText: 'You were removed from #general: Removed by moderator alice' }).waitFor()
  await bob.waitForSelector('#room-toggle:text("Join")')
  await alice.waitForSelector('#members .member[data-user="bob"]', { state: 'detached' })
  t.same(await server.app.ws.members('general'), ['alice'])

  // The server can add him too: the page shows the room as joined, with a note.
  await server.app.ws.addToRoom({ userId: 'bob' }, 'random')
  await bob.waitForSelector('#rooms [data-room="random"].joined')
  await bob.click('#rooms [data-room="random"]')
  await bob.locator('#messages .note').filter({ hasText: 'You were added to #random.' }).waitFor()
  t.same(await server.app.ws.members('random'), ['bob'])
  t.same(pageErrors, [], 'no page raised an error')
})
