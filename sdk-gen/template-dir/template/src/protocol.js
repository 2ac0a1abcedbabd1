import { File } from '@asyncapi/generator-react-sdk'
const { modelOf, renderProtocol } = require('../../helpers/index.cjs')

export default function Protocol ({ asyncapi }) {
  return <File name="protocol.ts">{renderProtocol(modelOf(asyncapi))}</File>
}
