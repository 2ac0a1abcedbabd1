/**
 * Summarise a `--cpu-prof` profile: self time per function, top first, and the share spent in the
 * whole profile. `npx tsx bench/profile-summary.ts bench/results/profiles.tmp/CPU…cpuprofile [top]`
 */
import { readFileSync } from 'node:fs'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }

const file = process.argv[2]
if (file === undefined) throw new Error('usage: profile-summary <file.cpuprofile> [top]')
const top = Number(process.argv[3] ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!
  const dt = profile.timeDeltas[i] ?? 0
  const url = node.callFrame.url.replace(/^.*\/(node_modules\/)?/, '')
  const key = `${node.callFrame.functionName || '(anonymous)'}  ${url}${url === '' ? '' : ':' + (node.callFrame.lineNumber + 1)}`
  self.set(key, (self.get(key) ?? 0) + dt)
  total += dt
})
const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0)
console.log(`total ${(total / 1000).toFixed(0)} ms, busy ${((total - idle) / 1000).toFixed(0)} ms`)
for (const [key, us] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(100 * us / (total - idle)).toFixed(1).padStart(5)}%  ${key}`)
}
