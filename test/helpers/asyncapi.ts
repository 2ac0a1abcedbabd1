/** AsyncAPI test helpers: the official parser's verdict on a document. */
import { Parser } from '@asyncapi/parser'

const parser = new Parser()

/** Severity 0 = error, 1 = warning (Spectral). */
export interface Problem { severity: number, code: string, message: string, path: string }

/**
 * Errors and warnings the parser reports. Information and hints are left out: the parser knows
 * AsyncAPI 3.1.0 and recommends it, but the web renderers reject 3.1.0, so 3.0.0 is deliberate.
 */
export async function parserProblems (document: string | object): Promise<{ parsed: boolean, problems: Problem[] }> {
  // The parser may annotate the object it is given: hand it a copy.
  const input = typeof document === 'string' ? document : JSON.parse(JSON.stringify(document)) as object
  const { document: parsed, diagnostics } = await parser.parse(input as Parameters<Parser['parse']>[0])
  const problems = diagnostics
    .filter((d) => d.severity <= 1)
    .map((d) => ({ severity: d.severity, code: String(d.code), message: d.message, path: d.path.join('.') }))
  return { parsed: parsed !== undefined, problems }
}
