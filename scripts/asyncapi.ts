/** `npm run asyncapi`: write `asyncapi.yaml` at the repository root from the example app. */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { renderChatAsyncApiYaml } from '../examples/chat/asyncapi.js'

const target = fileURLToPath(new URL('../asyncapi.yaml', import.meta.url))
await writeFile(target, await renderChatAsyncApiYaml())
console.log(`wrote ${target}`)
