/**
 * The docs page: a small HTML page that renders the document with the standalone bundle of
 * `@asyncapi/react-component`, every byte served by the app itself (no CDN, works offline).
 * The renderer is an optional peer dependency: it is looked up when the docs plugin registers.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { WsRegistrationError } from '../errors.js'

const require = createRequire(import.meta.url)

export const RENDERER_PACKAGE = '@asyncapi/react-component'

/** Static assets of the page, by file name under the page's path. */
export const DOCS_ASSETS = {
  'asyncapi-react.js': { module: `${RENDERER_PACKAGE}/browser/standalone/index.js`, contentType: 'text/javascript; charset=utf-8' },
  'asyncapi-react.css': { module: `${RENDERER_PACKAGE}/styles/default.min.css`, contentType: 'text/css; charset=utf-8' },
} as const

export type DocsAsset = keyof typeof DOCS_ASSETS

/** Where each asset is on disk; a coded error naming the package to install when it is missing. */
export function locateDocsAssets (): Record<DocsAsset, string> {
  const found = {} as Record<DocsAsset, string>
  for (const name of Object.keys(DOCS_ASSETS) as DocsAsset[]) {
    try {
      found[name] = require.resolve(DOCS_ASSETS[name].module)
    } catch {
      throw new WsRegistrationError('WS_ERR_DOCS_RENDERER_MISSING',
        `The AsyncAPI docs page renders with ${RENDERER_PACKAGE}, an optional peer dependency that is not installed: ` +
        `run \`npm install ${RENDERER_PACKAGE}\`, or do not register fastify-ws-rooms/docs (the document routes work without it)`)
    }
  }
  return found
}

const loaded = new Map<string, Promise<Buffer>>()

/** The file's bytes, read once per process (the bundle is about 3 MB). */
export function readDocsAsset (file: string): Promise<Buffer> {
  let bytes = loaded.get(file)
  if (bytes === undefined) {
    bytes = readFile(file)
    bytes.catch(() => loaded.delete(file))
    loaded.set(file, bytes)
  }
  return bytes
}

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replaceAll('<', '\\u003c').replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029')

/** The document routes the page links to (`app.asyncapi.urls`). */
export interface DocumentLinks { json: string, yaml: string, clientJson: string, clientYaml: string }

/** `<link rel="alternate">`s for tools, and a line of links for readers, to the documents the page renders. */
function documentLinks (links: DocumentLinks | undefined): { head: string, body: string } {
  if (links === undefined) return { head: '', body: '' }
  const [json, yaml, clientJson, clientYaml] = [links.json, links.yaml, links.clientJson, links.clientYaml].map(escapeHtml)
  return {
    head: `<link rel="alternate" type="application/json" href="${json}" title="AsyncAPI document (JSON)">
<link rel="alternate" type="application/yaml" href="${yaml}" title="AsyncAPI document (YAML)">
`,
    body: `<nav class="asyncapi-documents" style="font: 14px sans-serif; padding: 8px 16px">AsyncAPI document: ` +
      `<a href="${json}">JSON</a> · <a href="${yaml}">YAML</a>; from the client's view (for client generators): ` +
      `<a href="${clientJson}">JSON</a> · <a href="${clientYaml}">YAML</a></nav>
`,
  }
}

/**
 * `pagePath` is the page's full URL path (with any encapsulation prefix): the assets live under it.
 * `links`: the document routes, linked from the page (none when they are not served).
 */
export function docsPageHtml (document: { info: { title: string } }, pagePath: string, links?: DocumentLinks): string {
  const base = escapeHtml(pagePath === '/' ? '' : pagePath)
  const { head, body } = documentLinks(links)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)} · AsyncAPI</title>
<link rel="stylesheet" href="${base}/asyncapi-react.css">
${head}</head>
<body>
${body}<div id="asyncapi"></div>
<script src="${base}/asyncapi-react.js"></script>
<script>
AsyncApiStandalone.render({
  schema: ${scriptJson(document)},
  config: { show: { sidebar: true }, sidebar: { showOperations: 'byDefault' } },
}, document.getElementById('asyncapi'));
</script>
</body>
</html>
`
}
