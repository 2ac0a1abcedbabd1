/**
 * The SDK generator's optional peers, as an app installs them: the AsyncAPI tools are loaded only
 * for an AsyncAPI document, a missing one is named with the command that installs it, and the
 * generator's own @asyncapi/generator-react-sdk is found in a non-hoisted (pnpm) node_modules,
 * where it sits beside the generator and not beside this package. (The installed bin without
 * the peers: test/consumer.test.ts.)
 */
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import t from 'tap'
import { loadAsyncApiToolchain, reactSdkModulesOf } from '../sdk-gen/asyncapi-toolchain.js'
import { tempDir } from './helpers/sdk.js'

/** A package folder with a manifest and a CommonJS entry. */
async function fakePackage (dir: string, name: string, main: string): Promise<void> {
  await mkdir(join(dir, 'lib'), { recursive: true })
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'lib/index.js' }))
  await writeFile(join(dir, 'lib', 'index.js'), main)
}

/**
 * pnpm's layout: every package in `.pnpm/<name>@<version>/node_modules/<name>`, its dependencies
 * (and peers) linked beside it there, nothing hoisted. Returns the file this package's code runs from.
 */
async function pnpmLayout (root: string): Promise<{ ourFile: string, reactSdkModules: string }> {
  const store = join(root, 'node_modules', '.pnpm')
  const at = (id: string, name: string): string => join(store, id, 'node_modules', name)
  const link = async (target: string, path: string): Promise<void> => {
    await mkdir(dirname(path), { recursive: true })
    await symlink(target, path, 'dir')
  }
  await fakePackage(at('fastify-ws-rooms@0.1.0', 'fastify-ws-rooms'), 'fastify-ws-rooms', '')
  await fakePackage(at('@asyncapi+parser@3.6.3', '@asyncapi/parser'), '@asyncapi/parser', 'exports.Parser = class Parser {}')
  await fakePackage(at('@asyncapi+generator@3.4.1', '@asyncapi/generator'), '@asyncapi/generator', 'module.exports = class Generator {}')
  await fakePackage(at('@asyncapi+generator-react-sdk@1.1.2', '@asyncapi/generator-react-sdk'), '@asyncapi/generator-react-sdk', '')
  // The app's optional peers, linked beside the plugin; the React SDK beside the generator only.
  await link(at('@asyncapi+parser@3.6.3', '@asyncapi/parser'), at('fastify-ws-rooms@0.1.0', '@asyncapi/parser'))
  await link(at('@asyncapi+generator@3.4.1', '@asyncapi/generator'), at('fastify-ws-rooms@0.1.0', '@asyncapi/generator'))
  await link(at('@asyncapi+generator-react-sdk@1.1.2', '@asyncapi/generator-react-sdk'), at('@asyncapi+generator@3.4.1', '@asyncapi/generator-react-sdk'))
  const ourFile = join(at('fastify-ws-rooms@0.1.0', 'fastify-ws-rooms'), 'dist', 'sdk-gen', 'asyncapi-toolchain.js')
  await mkdir(dirname(ourFile), { recursive: true })
  return { ourFile, reactSdkModules: await realpath(join(store, '@asyncapi+generator-react-sdk@1.1.2', 'node_modules')) }
}

t.test('in a pnpm layout the React SDK is found beside the generator, where this package cannot see it', async (t) => {
  const { ourFile, reactSdkModules } = await pnpmLayout(await tempDir(t, 'sdk-pnpm-'))
  t.throws(() => createRequire(ourFile).resolve('@asyncapi/generator-react-sdk'), { code: 'MODULE_NOT_FOUND' }, 'not hoisted: invisible from this package')
  const tools = await loadAsyncApiToolchain(ourFile)
  t.equal(tools.reactSdkModules, reactSdkModules, 'the node_modules folder that holds the generator\'s copy')
  t.equal(reactSdkModulesOf(createRequire(ourFile).resolve('@asyncapi/generator')), reactSdkModules)
})

t.test('without the AsyncAPI peers an AsyncAPI run fails with SDK_ERR_MISSING_DEPENDENCY, naming them and the install command', async (t) => {
  const dir = await tempDir(t, 'sdk-no-peers-')
  const error = await loadAsyncApiToolchain(join(dir, 'cli.js')).then(() => undefined, (err: unknown) => err)
  t.match(error, {
    code: 'SDK_ERR_MISSING_DEPENDENCY',
    message: /needs @asyncapi\/generator and @asyncapi\/parser \(optional peer dependencies of fastify-ws-rooms\).*npm install --save-dev @asyncapi\/generator @asyncapi\/parser/,
  })
})

t.test('with one peer installed, only the missing one is named as missing', async (t) => {
  const dir = await tempDir(t, 'sdk-one-peer-')
  await fakePackage(join(dir, 'node_modules', '@asyncapi', 'parser'), '@asyncapi/parser', 'exports.Parser = class Parser {}')
  const error = await loadAsyncApiToolchain(join(dir, 'cli.js')).then(() => undefined, (err: unknown) => err)
  t.match(error, { code: 'SDK_ERR_MISSING_DEPENDENCY', message: /^An AsyncAPI document needs @asyncapi\/generator \(optional/ })
})

t.test('a peer that cannot load a module it needs (pnpm with hoist=false) is named, with that module, not a stack trace', async (t) => {
  const dir = await tempDir(t, 'sdk-broken-peer-')
  await fakePackage(join(dir, 'node_modules', '@asyncapi', 'parser'), '@asyncapi/parser', 'require(\'@stoplight/types\')')
  await fakePackage(join(dir, 'node_modules', '@asyncapi', 'generator'), '@asyncapi/generator', 'module.exports = class Generator {}')
  const error = await loadAsyncApiToolchain(join(dir, 'cli.js')).then(() => undefined, (err: unknown) => err)
  t.match(error, { code: 'SDK_ERR_MISSING_DEPENDENCY', message: /^@asyncapi\/parser is installed but cannot load @stoplight\/types, .*hoist=true/ })
})
