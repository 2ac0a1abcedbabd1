/** Median with min–max over repeated runs. */
export interface Spread { median: number, min: number, max: number, n: number }

export function spread (values: readonly number[]): Spread | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length }
}

/** 3 significant digits, thousands grouped: 12.3, 1,234, 56,700. */
export function fmt (value: number): string {
  if (!Number.isFinite(value)) return '–'
  const abs = Math.abs(value)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
  const rounded = abs >= 1000 ? Number(value.toPrecision(3)) : value
  return rounded.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: abs >= 1000 ? 0 : digits })
}
