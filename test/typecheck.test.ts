import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

t.test('the project type-checks under strict, and every @ts-expect-error in test/types fails to compile', async (t) => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: root })
    .catch((err: { stdout: string, stderr: string }) => err)
  t.equal(stdout + stderr, '', 'tsc reports nothing')
})
