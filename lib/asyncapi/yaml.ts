/** The YAML view of the document: no anchors/aliases (renderers and diffs want plain YAML), no folding. */
import { stringify } from 'yaml'

export function toYaml (document: unknown): string {
  return stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 })
}
