'use strict'
/** What the template entry files use. The model is built once per parsed document. */
const { buildModel } = require('./model.cjs')
const { renderProtocol } = require('./render-protocol.cjs')
const { renderClient } = require('./render-client.cjs')
const { renderReadme } = require('./render-readme.cjs')

const models = new WeakMap()

function modelOf (asyncapi) {
  let model = models.get(asyncapi)
  if (model === undefined) models.set(asyncapi, model = buildModel(asyncapi))
  return model
}

module.exports = { modelOf, renderProtocol, renderClient, renderReadme }
