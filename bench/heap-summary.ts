/**
 * Summarise a heap snapshot: self size and count per constructor, largest first, divided by the
 * number of connections. `npx tsx bench/heap-summary.ts file.heapsnapshot.tmp 10000 [top]`
 */
import { readFileSync } from 'node:fs'

interface Snapshot { snapshot: { meta: { node_fields: string[], node_types: [string[]] } }, nodes: number[], strings: string[] }

const [file, perArg, topArg] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: heap-summary <file> [connections] [top]')
const per = Number(perArg ?? 1)
const data = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
const fields = data.snapshot.meta.node_fields
const types = data.snapshot.meta.node_types[0]
const width = fields.length
const typeAt = fields.indexOf('type')
const nameAt = fields.indexOf('name')
const sizeAt = fields.indexOf('self_size')
const totals = new Map<string, { size: number, count: number }>()
for (let i = 0; i < data.nodes.length; i += width) {
  const type = types[data.nodes[i + typeAt]!]!
  const name = type === 'object' || type === 'closure' ? data.strings[data.nodes[i + nameAt]!]! : `(${type})`
  const key = type === 'closure' ? `closure ${name}` : name
  const entry = totals.get(key) ?? { size: 0, count: 0 }
  entry.size += data.nodes[i + sizeAt]!
  entry.count++
  totals.set(key, entry)
}
for (const [name, { size, count }] of [...totals].sort((a, b) => b[1].size - a[1].size).slice(0, Number(topArg ?? 40))) {
  console.log(`${(size / per).toFixed(0).padStart(7)} B/conn ${(count / per).toFixed(2).padStart(7)} /conn  ${name.slice(0, 90)}`)
}
