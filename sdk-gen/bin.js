#!/usr/bin/env node
// `fastify-ws-rooms-sdk`: generate a typed client package from an AsyncAPI document.
// An installed package runs the compiled CLI (dist/sdk-gen); a checkout runs the TypeScript through tsx.
import { existsSync } from 'node:fs'

const needed = ['@asyncapi/generator', '@asyncapi/parser', 'typescript']
const missing = needed.filter((name) => {
  try { import.meta.resolve(name); return false } catch { return true }
})
if (missing.length > 0) {
  console.error(`fastify-ws-rooms-sdk needs ${missing.join(', ')} (optional peer dependencies of fastify-ws-rooms).\n` +
    `Install them where you run it: npm install --save-dev ${needed.join(' ')}`)
  process.exit(1)
}

const compiled = new URL('../dist/sdk-gen/cli.js', import.meta.url)
let cli
if (existsSync(compiled)) {
  cli = await import(compiled.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  cli = await import('./cli.ts')
}
process.exitCode = await cli.main(process.argv.slice(2))
