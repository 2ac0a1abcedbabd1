/** A `get_members` page from an unordered list of user ids: sorts it (O(N log N)), for adapters without an ordered index. */
import type { MembersAfter } from './adapter.js'

export function sortedPage (users: readonly string[], after: string | undefined, limit: number): MembersAfter {
  const all = [...users].sort()
  let start = 0
  if (after !== undefined) {
    // First id greater than `after` (binary search: the list is sorted).
    let high = all.length
    while (start < high) {
      const mid = (start + high) >>> 1
      if (all[mid]! <= after) start = mid + 1
      else high = mid
    }
  }
  return { members: all.slice(start, start + limit), count: all.length }
}
