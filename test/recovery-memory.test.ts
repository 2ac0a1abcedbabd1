import t from 'tap'
import { MemoryAdapter } from '../plugin.js'
import { recoverySuite } from './adapter-compliance.js'
import { buildApp } from './helpers/index.js'

// One process: the "other instance" a client reconnects to is the same app.
recoverySuite(t, async (t, count, options) => {
  const app = await buildApp(t, { adapter: new MemoryAdapter(options), rateLimit: false })
  return Array.from({ length: count }, () => app)
})
