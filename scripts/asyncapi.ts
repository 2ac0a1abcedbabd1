/**
 * `npm run asyncapi`: write the example app's documents at the repository root: `asyncapi.yaml`
 * (the server's view, canonical) and `asyncapi.client.yaml` (the client's view, for client generators).
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { renderChatAsyncApiYaml } from '../examples/chat/asyncapi.js'

for (const [view, file] of [['server', 'asyncapi.yaml'], ['client', 'asyncapi.client.yaml']] as const) {
  const target = fileURLToPath(new URL(`../${file}`, import.meta.url))
  await writeFile(target, await renderChatAsyncApiYaml(view))
  console.log(`wrote ${target}`)
}
