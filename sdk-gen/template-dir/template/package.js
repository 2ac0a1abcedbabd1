import { File } from '@asyncapi/generator-react-sdk'
const { modelOf } = require('../helpers/index.cjs')

/** package.json of the generated client: ESM + types, no dependencies. */
export default function PackageJson ({ asyncapi, params }) {
  const model = modelOf(asyncapi)
  const pkg = {
    name: params.packageName,
    version: params.packageVersion || model.version,
    description: `Typed WebSocket client for ${model.title}, generated from its AsyncAPI document.`,
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
    files: ['dist', 'src', 'README.md'],
    sideEffects: false,
    dependencies: {},
    generatedBy: 'fastify-ws-rooms sdk-gen',
  }
  return <File name="package.json">{JSON.stringify(pkg, null, 2) + '\n'}</File>
}
