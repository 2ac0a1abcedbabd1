#!/usr/bin/env node
// `npm pack`/`npm publish` ship package.json as it is on disk. The repository's scripts (examples,
// benchmarks, the build itself) and its dev dependencies' install-script approvals (`allowScripts`)
// mean nothing in an installed package, and `prepare` would try to build there: `strip` (prepack)
// removes them, `restore` (postpack) puts the file back.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

const MANIFEST = 'package.json'
const SAVED = 'package.json.prepack'
const command = process.argv[2]

if (command === 'strip') {
  if (existsSync(SAVED)) {
    console.error(`${SAVED} exists: an earlier pack did not finish. Run \`node scripts/pack-manifest.mjs restore\` first.`)
    process.exit(1)
  }
  const text = readFileSync(MANIFEST, 'utf8')
  const manifest = JSON.parse(text)
  delete manifest.scripts
  delete manifest.devDependencies
  delete manifest.scarfSettings
  delete manifest.allowScripts
  writeFileSync(SAVED, text)
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n')
} else if (command === 'restore') {
  if (existsSync(SAVED)) renameSync(SAVED, MANIFEST)
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore')
  process.exit(2)
}
