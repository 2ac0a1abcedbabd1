import { File } from '@asyncapi/generator-react-sdk'
const { modelOf, renderReadme } = require('../helpers/index.cjs')

export default function Readme ({ asyncapi, params }) {
  return <File name="README.md">{renderReadme(modelOf(asyncapi), params.packageName)}</File>
}
