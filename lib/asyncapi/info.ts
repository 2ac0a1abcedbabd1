/**
 * The document's `info` and `tags`, with defaults that code generators and linters accept: a
 * title that becomes a valid class name once its spaces are removed (templates name the client
 * class after it), a license and a contact from the app's `package.json`.
 */
/** `info.contact` of the document. Linters want all three. */
export interface AsyncApiContact { name?: string, url?: string, email?: string }
/** `info.license` of the document. */
export interface AsyncApiLicense { name: string, url?: string }

export interface DocumentInfo {
  title: string
  version: string
  description: string
  contact?: AsyncApiContact
  license?: AsyncApiLicense
  tags: Array<{ name: string, description: string }>
}

/** Tags of every operation and message: the direction of the frame. */
export const TAGS = [
  { name: 'client-to-server', description: 'Frames a client sends to the server.' },
  { name: 'server-to-client', description: 'Frames the server sends to clients.' },
] as const

export type TagName = (typeof TAGS)[number]['name']

/**
 * `@acme/chat-server` → `Chat Server`: words of letters and digits, each capitalised, so that
 * `title.replace(/\s+/g, '')` (what the AsyncAPI client templates do) is an identifier.
 */
export function titleFromPackageName (name: string): string | undefined {
  const words = name.replace(/^@[^/]*\//, '').split(/[^A-Za-z0-9]+/).filter((word) => word !== '')
  if (words.length === 0) return undefined
  const title = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ')
  return /^[0-9]/.test(title) ? `Api ${title}` : title
}

/** An SPDX id (`MIT`) links to its text; an expression (`MIT OR Apache-2.0`) is named only. */
export function licenseFromSpdx (spdx: string): AsyncApiLicense {
  return /^[A-Za-z0-9.+-]+$/.test(spdx) && spdx !== 'UNLICENSED'
    ? { name: spdx, url: `https://spdx.org/licenses/${spdx.replace(/\+$/, '')}.html` }
    : { name: spdx }
}

export function documentInfo (given: Omit<DocumentInfo, 'tags'>): DocumentInfo {
  const info: DocumentInfo = { title: given.title, version: given.version, description: given.description, tags: TAGS.map((tag) => ({ ...tag })) }
  if (given.contact !== undefined) info.contact = { ...given.contact }
  if (given.license !== undefined) info.license = { ...given.license }
  return info
}
