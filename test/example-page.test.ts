/**
 * The example chat page end to end: the app built as `npm start` builds it (the one client
 * generated from the app's OpenAPI and AsyncAPI documents into a fresh cache, the page bundled with
 * esbuild), driven by three users in headless Chromium: sign-in through the REST half, history
 * through the history route, chat through the socket, a reload and a server restart.
 * Screenshots land in test-artifacts/.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import t from 'tap'
import { wsOf } from '../plugin.js'
import { buildChatApp } from '../examples/chat/app.js'
import { chatProtocol } from '../examples/chat/protocol.js'
import { checkPageTypes, prepareChatPage } from '../examples/chat/web-build.js'
import { registerChatPage } from '../examples/chat/web-routes.js'
import { launchBrowser, type TestBrowser } from './helpers/browser.js'
import { SECRET } from './helpers/index.js'
import { tempDir } from './helpers/sdk.js'

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
/** Reconnect within a few hundred milliseconds instead of the client's default backoff. */
const FAST_RECONNECT = '?reconnectBaseMs=100&reconnectMaxMs=300'

// A fresh cache: the path a fresh clone takes on its first `npm start`.
const assets = await prepareChatPage({ cacheDir: await tempDir(t, 'chat-page-'), log: () => {} })

interface Server { app: FastifyInstance, port: number, close(): Promise<void> }

async function startServer (port = 0): Promise<Server> {
  const app = await buildChatApp({ jwtSecret: SECRET, logger: false })
  await registerChatPage(app, { assets })
  await app.listen({ host: '127.0.0.1', port })
  let closed: Promise<void> | undefined
  const server = { app, port: (app.server.address() as AddressInfo).port, close: () => (closed ??= app.close()) }
  t.teardown(() => server.close())
  return server
}

t.test("the page's TypeScript type-checks against the generated client", async (t) => {
  t.same(checkPageTypes(assets.sdkDir), [])
})

t.test('the page\'s client was generated from both documents: typed sign-in and history next to the socket', async (t) => {
  const declarations = await readFile(join(assets.sdkDir, 'dist/app.d.ts'), 'utf8')
  t.match(declarations, /signIn\(\.\.\.args: ArgsOf<SignInData>\): Promise<SignInResponse>/)
  t.match(declarations, /getRoomHistory\(\.\.\.args: ArgsOf<GetRoomHistoryData>\): Promise<GetRoomHistoryResponse>/)
  t.match(declarations, /class AppClient extends RealtimeClient/)
})

t.test('the app serves its OpenAPI document beside the AsyncAPI document, each pointing to the other', async (t) => {
  const { app } = await startServer()
  const openapi = (await app.inject('/openapi.json')).json()
  t.equal(openapi['x-asyncapi'], '/asyncapi.json')
  t.equal(openapi.paths['/dev/token'].post.operationId, 'signIn')
  t.same(openapi.paths['/rooms/{room}/history'].get.security, [{ bearerAuth: [] }])
  t.same(Object.keys(openapi.paths).filter((path) => ['/', '/app.js', '/styles.css', '/openapi.json'].includes(path)), [], 'the page and the document itself are no API')
  t.equal((await app.inject('/asyncapi.json')).json()['x-openapi'], '/openapi.json')
})

t.test('the app serves the page and its assets itself, with their content types', async (t) => {
  const { app } = await startServer()
  const html = await app.inject('/')
  t.match(html.headers['content-type'], /^text\/html; charset=utf-8/)
  t.match(html.headers['content-security-policy'], /default-src 'self'/)
  t.match(html.body, /<script type="module" src="\/app\.js">/)
  t.notMatch(html.body, /(src|href)="(https?:)?\/\//, 'no asset from another host')
  t.match((await app.inject('/app.js')).headers['content-type'], /^text\/javascript/)
  t.match((await app.inject('/styles.css')).headers['content-type'], /^text\/css/)
  t.equal((await app.inject('/docs')).statusCode, 200, 'the docs page the page links to')
})

t.test('POST /dev/token mints a token for a valid display name and refuses others', async (t) => {
  const { app } = await startServer()
  const ok = await app.inject({ method: 'POST', url: '/dev/token', payload: { name: 'Zoë O\'Neil' } })
  t.equal(ok.statusCode, 200)
  const { token, userId, expiresAt } = ok.json()
  t.equal(userId, 'Zoë O\'Neil')
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
  t.equal(claims.sub, 'Zoë O\'Neil')
  t.ok(claims.exp - claims.iat <= 900 && expiresAt > Date.now(), 'short-lived')
  for (const name of ['', ' alice', 'alice ', '<script>', 'a'.repeat(33)]) {
    const refused = await app.inject({ method: 'POST', url: '/dev/token', payload: { name } })
    t.equal(refused.statusCode, 400, `refuses ${JSON.stringify(name)}`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/dev/token', payload: {} })).statusCode, 400, 'refuses a missing name')
})

/** The little of the DOM the in-page functions below touch (the tests' tsconfig has no DOM typings). */
interface InPage {
  document: {
    querySelector(selector: string): { textContent: string | null, getAttribute(name: string): string | null } | null
    querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }>
    body: { innerText: string }
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const texts = (page: Page): Promise<string[]> => page.$$eval('#messages .message .text', (items) => items.map((item) => item.textContent ?? ''))

async function waitForMembers (page: Page, expected: string[]): Promise<void> {
  await page.waitForFunction((expected) => {
    const users = [...(globalThis as unknown as InPage).document.querySelectorAll('#members .member')].map((item) => item.getAttribute('data-user'))
    return JSON.stringify(users) === JSON.stringify(expected)
  }, expected)
}

async function waitForMessage (page: Page, text: string): Promise<void> {
  await page.locator('#messages .message .text').filter({ hasText: text }).first().waitFor()
}

async function send (page: Page, text: string): Promise<void> {
  await page.fill('#message-input', text)
  await page.press('#message-input', 'Enter')
}

t.test('two users chat in a room, through a server restart, unseen from another room', async (t) => {
  let server = await startServer()
  const base = `http://127.0.0.1:${server.port}/${FAST_RECONNECT}`
  const browser: TestBrowser = await launchBrowser(t)
  const pageErrors: string[] = []

  async function open (name: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage()
    page.setDefaultTimeout(5000)
    await page.setViewportSize({ width: 1100, height: 680 })
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`))
    await page.goto(base)
    return page
  }
  async function signIn (page: Page, name: string): Promise<void> {
    await page.fill('#name-input', name)
    await page.click('#signin-form button[type="submit"]')
    await page.waitForSelector('#status[data-state="open"]')
    await page.waitForSelector('#room-toggle:text("Leave")')
  }

  // Carol signs in (into #general), leaves it and joins #random from the room list.
  const carol = await open('carol')
  await mkdir(ARTIFACTS, { recursive: true })
  await carol.screenshot({ path: `${ARTIFACTS}example-page-signin.png` })
  await signIn(carol, 'carol')
  await carol.click('#room-toggle')
  await carol.waitForSelector('#room-toggle:text("Join")')
  await carol.click('#rooms [data-room="random"]')
  await carol.waitForSelector('#room-title:text("#random")')
  await waitForMembers(carol, ['carol'])

  const alice = await open('alice')
  const bob = await open('bob')
  const markup = '<img src=x onerror="document.title=\'owned\'"> <b>bold?</b>'

  await t.test('two users who sign in and join the same room see each other in the member list', async (t) => {
    await signIn(alice, 'alice')
    await signIn(bob, 'bob')
    await waitForMembers(alice, ['alice', 'bob'])
    await waitForMembers(bob, ['alice', 'bob'])
    t.equal(await alice.textContent('#room-title'), '#general')
    t.equal(await bob.textContent('#room-subtitle'), '2 members online')
  })

  await t.test('a user typing shows "is typing…" to the other', async (t) => {
    await alice.locator('#message-input').pressSequentially('Hi Bob')
    await bob.waitForSelector('#typing:text("alice is typing…")')
    t.equal(await alice.textContent('#typing'), '', 'not to the one typing')
  })

  await t.test('messages travel both ways with author and time, and user content stays text', async (t) => {
    await alice.press('#message-input', 'Enter')
    await waitForMessage(bob, 'Hi Bob')
    await waitForMessage(alice, 'Hi Bob')
    t.equal(await bob.textContent('#typing'), '', 'the message ends the typing indicator')
    const fromAlice = bob.locator('#messages .message[data-user="alice"]').first()
    t.equal(await fromAlice.locator('.author').textContent(), 'alice')
    t.ok(Date.parse(await fromAlice.locator('time').getAttribute('datetime') ?? '') > Date.now() - 60_000, 'with the time it was sent')

    await send(bob, 'Hello Alice')
    await send(bob, markup)
    await waitForMessage(alice, markup)
    await waitForMessage(bob, markup)
    t.same(await texts(alice), ['Hi Bob', 'Hello Alice', markup])
    t.same(await texts(bob), ['Hi Bob', 'Hello Alice', markup])
    t.equal(await alice.locator('#messages img, #messages b').count(), 0, 'no markup was interpreted')
  })

  await t.test('a reloaded page signs in again and shows the room\'s history, loaded through the history route', async (t) => {
    const historyRequests: Array<string | undefined> = []
    bob.on('request', (request) => {
      if (request.url().includes('/rooms/general/history')) historyRequests.push(request.headers().authorization)
    })
    await bob.reload()
    await bob.waitForSelector('#status[data-state="open"]')
    await waitForMessage(bob, markup)
    t.same(await texts(bob), ['Hi Bob', 'Hello Alice', markup], 'the same messages, in order')
    t.equal(historyRequests.length, 1, 'one page was enough')
    t.match(historyRequests[0], /^Bearer ey/, 'with the token the socket uses')
    t.equal(await bob.locator('#messages .message[data-user="bob"] .author').first().textContent(), 'bob', 'with authors')
    await waitForMembers(alice, ['alice', 'bob'])
    await waitForMembers(bob, ['alice', 'bob'])
  })

  await t.test('when the server restarts, both pages show reconnecting, come back on their own and re-join the room', async (t) => {
    const { port } = server
    await server.close() // every socket closes with 1001 (going away)
    for (const page of [alice, bob]) {
      // The server stays down until each page has shown the countdown.
      await page.waitForFunction(() => {
        const { document } = globalThis as unknown as InPage
        return document.querySelector('#status')?.getAttribute('data-state') === 'reconnecting' &&
          /^Reconnecting in \d+ s$/.test(document.querySelector('#status-text')?.textContent ?? '')
      })
    }
    t.pass('both pages showed "Reconnecting in N s"')
    await alice.screenshot({ path: `${ARTIFACTS}example-page-reconnecting.png` })
    server = await startServer(port)
    for (const page of [alice, bob]) {
      await page.waitForSelector('#status[data-state="open"]')
      await page.locator('#messages .note').filter({ hasText: 'Reconnected' }).waitFor()
      await waitForMembers(page, ['alice', 'bob'])
    }
    t.pass('both pages are connected and back in #general')
  })

  await t.test('a message sent after the restart arrives on both pages', async (t) => {
    await send(alice, 'Still here after the restart?')
    await waitForMessage(bob, 'Still here after the restart?')
    await send(bob, 'Yes, it reconnected by itself')
    await waitForMessage(alice, 'Yes, it reconnected by itself')
    await waitForMessage(bob, 'Yes, it reconnected by itself')
    t.same((await texts(bob)).slice(-2), ['Still here after the restart?', 'Yes, it reconnected by itself'])
  })

  await t.test('scrolling up loads older messages page by page, back to the room\'s beginning', async (t) => {
    const ws = wsOf(server.app, chatProtocol)
    for (let i = 1; i <= 70; i++) await ws.broadcast('archive', 'message', { userId: 'archivist', content: `archive ${i}`, ts: Date.now() - (70 - i) * 60_000 })
    await alice.fill('#new-room-input', 'archive')
    await alice.press('#new-room-input', 'Enter')
    await waitForMessage(alice, 'archive 70')
    const numbers = async (): Promise<number[]> => (await texts(alice)).map((text) => Number(text.replace('archive ', '')))
    t.same(await numbers(), range(41, 70), 'the newest page first, scrolled to the bottom')
    const scrollToTop = (): Promise<void> => alice.locator('#messages').evaluate((list) => { (list as unknown as { scrollTop: number }).scrollTop = 0 })
    await scrollToTop()
    await waitForMessage(alice, 'archive 11')
    t.same(await numbers(), range(11, 70))
    t.ok(await alice.locator('#messages').evaluate((list) => (list as unknown as { scrollTop: number }).scrollTop) > 0, 'the reader stays where they were')
    await scrollToTop()
    await waitForMessage(alice, 'archive 1')
    await alice.locator('#messages .history-edge').filter({ hasText: 'The beginning of #archive' }).waitFor()
    t.same(await numbers(), range(1, 70), 'every message once, in order')
    await alice.screenshot({ path: `${ARTIFACTS}example-page-history.png` })
  })

  await t.test('a user in another room sees none of it', async (t) => {
    await carol.waitForSelector('#status[data-state="open"]')
    t.same(await texts(carol), [])
    await waitForMembers(carol, ['carol'])
    const seen = await carol.evaluate(() => (globalThis as unknown as InPage).document.body.innerText)
    for (const word of ['Hi Bob', 'Hello Alice', 'restart?', 'alice', 'bob']) t.notOk(seen.includes(word), `no "${word}"`)
  })

  for (const [name, page] of [['alice', alice], ['bob', bob], ['carol', carol]] as const) {
    await page.screenshot({ path: `${ARTIFACTS}example-page-${name}.png` })
  }
  t.same(pageErrors, [], 'no page raised an error')
  t.same(browser.offHost, [], 'no request left the machine')
})
