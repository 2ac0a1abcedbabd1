'use strict'
/** Doc comments for generated code: text from the document, made safe inside a comment. */

function safe (text) {
  return String(text).replace(/\*\//g, '*\\/')
}

/**
 * @param {Array<string | undefined>} lines paragraphs and tag lines; undefined ones are skipped
 * @param {string} indent
 */
function tsdoc (lines, indent = '') {
  const body = []
  for (const line of lines) {
    if (line === undefined) continue
    for (const part of safe(line).split('\n')) body.push(part === '' ? indent + ' *' : indent + ' * ' + part)
  }
  return indent + '/**\n' + body.join('\n') + '\n' + indent + ' */'
}

module.exports = { tsdoc, safe }
