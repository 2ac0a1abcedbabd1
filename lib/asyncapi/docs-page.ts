/**
 * The docs page: a small HTML page that renders the document with the standalone bundle of
 * `@asyncapi/react-component`, every byte served by the app itself (no CDN, works offline).
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** Static assets of the page, by file name under the docs path. */
export const DOCS_ASSETS = {
  'asyncapi-react.js': { module: '@asyncapi/react-component/browser/standalone/index.js', contentType: 'text/javascript; charset=utf-8' },
  'asyncapi-react.css': { module: '@asyncapi/react-component/styles/default.min.css', contentType: 'text/css; charset=utf-8' },
} as const

export type DocsAsset = keyof typeof DOCS_ASSETS

const loaded = new Map<DocsAsset, Promise<Buffer>>()

/** The asset's bytes, read from node_modules once per process (the bundle is about 3 MB). */
export function readDocsAsset (name: DocsAsset): Promise<Buffer> {
  let bytes = loaded.get(name)
  if (bytes === undefined) {
    bytes = readFile(require.resolve(DOCS_ASSETS[name].module))
    bytes.catch(() => loaded.delete(name))
    loaded.set(name, bytes)
  }
  return bytes
}

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replaceAll('<', '\\u003c').replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029')

export function docsPageHtml (document: { info: { title: string } }, docsPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)} · AsyncAPI</title>
<link rel="stylesheet" href="${docsPath}/asyncapi-react.css">
</head>
<body>
<div id="asyncapi"></div>
<script src="${docsPath}/asyncapi-react.js"></script>
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
