import t from 'tap'
import { mkdir } from 'node:fs/promises'
import { launchBrowser } from './helpers/browser.js'
import { buildChatApp, DEV_JWT_SECRET } from '../examples/chat/app.js'

t.test('the docs page renders every message in headless Chromium with nothing loaded from off the machine', async (t) => {
  const app = await buildChatApp({ jwtSecret: DEV_JWT_SECRET, ws: { heartbeatIntervalMs: 0 } })
  t.teardown(() => app.close())
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.setViewportSize({ width: 1700, height: 1000 })
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  const failed: string[] = []
  page.on('requestfailed', (request) => failed.push(request.url()))

  const response = await page.goto(`${origin}/docs`, { waitUntil: 'load' })
  t.equal(response?.status(), 200)
  // The renderer fills the empty container; the visible title is the sign it is done.
  await page.waitForFunction(`document.body.innerText.includes(${JSON.stringify(app.asyncapi().info.title)})`, undefined, { timeout: 15_000 })

  const text = await page.evaluate<string>('document.body.innerText')
  const names = Object.values(app.asyncapi().components.messages).map((message) => message.name as string)
  const missing = [...new Set(names)].filter((name) => !text.includes(name))
  t.same(missing, [], 'every message name appears on the page')
  t.same(browser.offHost, [], 'no request left the machine')
  t.same(failed, [], 'no request failed')
  t.same(pageErrors, [], 'no script error')

  await mkdir('test-artifacts', { recursive: true })
  await page.screenshot({ path: 'test-artifacts/asyncapi-docs.png' })
  await page.screenshot({ path: 'test-artifacts/asyncapi-docs-full.png', fullPage: true })
})
