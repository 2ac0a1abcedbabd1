import { readFileSync } from 'node:fs'
import { TypeScriptGenerator, typeScriptDefaultPropertyKeyConstraints } from '@asyncapi/modelina'
import { Parser } from '@asyncapi/parser'
const file = process.argv[2]
let text = readFileSync(file, 'utf8')
if (process.argv[3]) text = text.replace('asyncapi: 3.0.0', 'asyncapi: ' + process.argv[3])
const t0 = Date.now()
const gen = new TypeScriptGenerator({ modelType: 'interface', enumType: 'union', constraints: { propertyKey: typeScriptDefaultPropertyKeyConstraints({ NO_RESERVED_KEYWORDS: (v) => v }) }, processorOptions: { interpreter: { ignoreAdditionalProperties: true } } })
try {
  const models = await gen.generate(text)
  console.log(Date.now() - t0, 'ms', models.length, models.map(m => m.modelName).join(' '))
  console.log(models.find(m => m.modelName === 'ServerErrorPayload')?.result)
  console.log(models.find(m => m.modelName === 'ClientJoinRoomFrame')?.result)
  console.log(models.find(m => /AnonymousSchema/.test(m.modelName))?.result)
} catch (e) { console.log('FAIL', e.message.slice(0, 300)) }
