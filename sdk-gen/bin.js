#!/usr/bin/env node
// `fastify-ws-rooms-sdk`: generate a typed client package from an app's AsyncAPI and/or OpenAPI
// documents. Its optional peers are loaded only when a document needs them (each run names the
// missing ones), so `--help` and an OpenAPI-only run work without the AsyncAPI tools.
// An installed package runs the compiled CLI (dist/sdk-gen); a checkout runs the TypeScript through tsx.
import { existsSync } from 'node:fs'

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
