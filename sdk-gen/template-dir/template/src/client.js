import { File } from '@asyncapi/generator-react-sdk'
const { modelOf, renderClient } = require('../../helpers/index.cjs')

export default function Client ({ asyncapi }) {
  return <File name="client.ts">{renderClient(modelOf(asyncapi))}</File>
}
