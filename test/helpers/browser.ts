/**
 * Headless Chromium (Debian's `chromium`, driven by playwright-core) for tests of what a browser
 * runs. Every request that leaves 127.0.0.1 is recorded and aborted, so tests can assert none did.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

interface Tap { teardown(fn: () => unknown): void }

export interface TestBrowser {
  browser: Browser
  /** A fresh context that blocks (and records) every request to another host. */
  newContext(): Promise<BrowserContext>
  /** URLs of requests that tried to leave the machine. */
  readonly offHost: string[]
}

export async function launchBrowser (t: Tap): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true })
  t.teardown(() => browser.close())
  const offHost: string[] = []
  return {
    browser,
    offHost,
    async newContext () {
      const context = await browser.newContext()
      await context.route('**/*', async (route) => {
        const url = new URL(route.request().url())
        const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.protocol === 'data:' || url.protocol === 'blob:'
        if (local) await route.continue()
        else {
          offHost.push(url.href)
          await route.abort()
        }
      })
      return context
    },
  }
}
