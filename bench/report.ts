/**
 * The report: one Markdown table per section with every figure as median (min–max) and its ratio
 * to the baseline, the targets of issue #8 checked against the medians, and an SVG chart of
 * deliveries/s and p99 per variant (hand-written, no dependencies).
 */
import { fmt, spread, type Spread } from './stats.js'
import type { VariantName } from './wire.js'

export type Figure = 'cpuUs' | 'redisCpuUs' | 'totalCpuUs' | 'dps' | 'p50Ms' | 'p99Ms' | 'maxMs' | 'heapB' | 'rssB' | 'setupPerSec' | 'joinMs' | 'joinCpuUs' | 'leaveMs' | 'leaveCpuUs' | 'errors' | 'dropped'

export const FIGURES: Record<Figure, { label: string, lowerIsBetter: boolean }> = {
  cpuUs: { label: 'server CPU per delivery (µs)', lowerIsBetter: true },
  redisCpuUs: { label: 'Redis CPU per delivery (µs, all masters)', lowerIsBetter: true },
  totalCpuUs: { label: 'server + Redis CPU per delivery (µs)', lowerIsBetter: true },
  dps: { label: 'deliveries/s', lowerIsBetter: false },
  p50Ms: { label: 'latency p50 (ms)', lowerIsBetter: true },
  p99Ms: { label: 'latency p99 (ms)', lowerIsBetter: true },
  maxMs: { label: 'latency max (ms)', lowerIsBetter: true },
  heapB: { label: 'heap per idle connection (B)', lowerIsBetter: true },
  rssB: { label: 'RSS per idle connection (B)', lowerIsBetter: true },
  setupPerSec: { label: 'connection setup (auth + join) /s', lowerIsBetter: false },
  joinMs: { label: 'join phase: all N connected, authenticated, joined (ms)', lowerIsBetter: true },
  joinCpuUs: { label: 'join phase: server CPU per joined connection (µs)', lowerIsBetter: true },
  leaveMs: { label: 'leave storm: all N closed until the server holds none (ms)', lowerIsBetter: true },
  leaveCpuUs: { label: 'leave storm: server CPU per closed connection (µs)', lowerIsBetter: true },
  errors: { label: 'errors (failed setups, lost connections)', lowerIsBetter: true },
  dropped: { label: 'deliveries missing', lowerIsBetter: true },
}

export const VARIANT_LABEL: Record<VariantName, string> = {
  plugin: 'this plugin',
  ws: 'raw ws',
  socketio: 'Socket.IO 4',
  'plugin-redis': 'this plugin (Redis)',
  'socketio-redis': 'Socket.IO 4 (redis-adapter)',
  'plugin-cluster': 'this plugin (Redis Cluster)',
  'socketio-cluster': 'Socket.IO 4 (sharded redis-adapter)',
}

const COLOR: Record<VariantName, string> = {
  plugin: '#2b7bba',
  ws: '#7f7f7f',
  socketio: '#e08a2c',
  'plugin-redis': '#2b7bba',
  'socketio-redis': '#e08a2c',
  'plugin-cluster': '#2b7bba',
  'socketio-cluster': '#e08a2c',
}

/** One measured figure of one run. `row` names the scenario and phase, e.g. "fan-out N=1,000 · 128 B · max". */
export interface Sample { section: string, row: string, figure: Figure, variant: VariantName, value: number }

export interface Section { title: string, variants: VariantName[], baseline: VariantName, unavailable: Map<VariantName, string>, note?: string }

export interface Machine { cores: number, cpu: string, node: string, platform: string, memoryGb: number, pinning: string }

type Key = `${string}|${string}|${Figure}`

function group (samples: Sample[]): { rows: Map<string, Figure[]>, values: Map<Key, Map<VariantName, number[]>> } {
  const rows = new Map<string, Figure[]>()
  const values = new Map<Key, Map<VariantName, number[]>>()
  for (const s of samples) {
    const rowKey = s.section + '|' + s.row
    const figures = rows.get(rowKey) ?? []
    if (!figures.includes(s.figure)) figures.push(s.figure)
    rows.set(rowKey, figures)
    const key: Key = `${s.section}|${s.row}|${s.figure}`
    const byVariant = values.get(key) ?? new Map<VariantName, number[]>()
    const list = byVariant.get(s.variant) ?? []
    list.push(s.value)
    byVariant.set(s.variant, list)
    values.set(key, byVariant)
  }
  return { rows, values }
}

export function medianOf (samples: Sample[], section: string, row: string, figure: Figure, variant: VariantName): Spread | undefined {
  return spread(samples.filter((s) => s.section === section && s.row === row && s.figure === figure && s.variant === variant).map((s) => s.value))
}

function cell (sp: Spread | undefined): string {
  if (sp === undefined) return '–'
  if (sp.n === 1 || sp.min === sp.max) return fmt(sp.median)
  return `${fmt(sp.median)} (${fmt(sp.min)}–${fmt(sp.max)})`
}

function ratio (a: Spread | undefined, b: Spread | undefined): string {
  if (a === undefined || b === undefined) return '–'
  if (b.median === 0) return a.median === 0 ? '1.00×' : '–'
  return (a.median / b.median).toFixed(2) + '×'
}

export function markdown (title: string, machine: Machine, settings: string, sections: Section[], samples: Sample[], targets: string[]): string {
  const { rows, values } = group(samples)
  const out: string[] = [`# ${title}`, '', `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}. ${machine.pinning}`, '', settings, '']
  for (const section of sections) {
    out.push(`## ${section.title}`, '')
    if (section.note !== undefined) out.push(section.note, '')
    for (const [variant, reason] of section.unavailable) out.push(`- ${VARIANT_LABEL[variant]}: **not available** (${reason})`)
    if (section.unavailable.size > 0) out.push('')
    const others = section.variants.filter((v) => v !== section.baseline)
    const header = ['Scenario', 'Figure', ...section.variants.map((v) => VARIANT_LABEL[v]), ...others.map((v) => `${VARIANT_LABEL[v]} ÷ ${VARIANT_LABEL[section.baseline]}`)]
    out.push('| ' + header.join(' | ') + ' |', '|' + header.map((_, i) => (i < 2 ? '---' : '---:')).join('|') + '|')
    let any = false
    for (const [rowKey, figures] of rows) {
      const [sectionTitle, row] = rowKey.split('|') as [string, string]
      if (sectionTitle !== section.title) continue
      for (const figure of figures) {
        const byVariant = values.get(`${sectionTitle}|${row}|${figure}`)!
        const spreads = new Map(section.variants.map((v) => [v, spread(byVariant.get(v) ?? [])]))
        const base = spreads.get(section.baseline)
        out.push('| ' + [row, FIGURES[figure].label, ...section.variants.map((v) => cell(spreads.get(v))), ...others.map((v) => ratio(spreads.get(v), base))].join(' | ') + ' |')
        any = true
      }
    }
    if (!any) out.push('| (no results) |')
    out.push('')
  }
  if (targets.length > 0) out.push('## Targets (issue #8, on the medians above)', '', ...targets.map((t) => `- ${t}`), '')
  return out.join('\n')
}

function escapeXml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

interface Panel { title: string, groups: Array<{ label: string, bars: Array<{ variant: VariantName, value: number }> }> }

/** Horizontal grouped bars: one group per scenario, one bar per variant (median). */
export function svgChart (title: string, panels: Panel[]): string {
  const panelWidth = 470
  const labelWidth = 190
  const barHeight = 12
  const groupGap = 14
  const top = 56
  const heights = panels.map((p) => p.groups.reduce((h, g) => h + g.bars.length * barHeight + groupGap, 0))
  const height = top + Math.max(60, ...heights) + 40
  const width = panelWidth * panels.length + 20
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ]
  const legend = [...new Set(panels.flatMap((p) => p.groups.flatMap((g) => g.bars.map((b) => b.variant))))]
  legend.forEach((variant, i) => {
    const x = 10 + i * 200
    parts.push(`<rect x="${x}" y="${height - 22}" width="10" height="10" fill="${COLOR[variant]}"/>`,
      `<text x="${x + 14}" y="${height - 13}">${escapeXml(VARIANT_LABEL[variant])}</text>`)
  })
  panels.forEach((panel, p) => {
    const x0 = 10 + p * panelWidth
    const maxValue = Math.max(1e-9, ...panel.groups.flatMap((g) => g.bars.map((b) => b.value)))
    const scale = (panelWidth - labelWidth - 70) / maxValue
    parts.push(`<text x="${x0}" y="44" font-size="12" font-weight="bold">${escapeXml(panel.title)}</text>`)
    let y = top
    for (const g of panel.groups) {
      const groupHeight = g.bars.length * barHeight
      parts.push(`<text x="${x0 + labelWidth - 6}" y="${y + groupHeight / 2 + 4}" text-anchor="end">${escapeXml(g.label)}</text>`)
      for (const bar of g.bars) {
        const w = Math.max(1, bar.value * scale)
        parts.push(`<rect x="${x0 + labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${COLOR[bar.variant]}"/>`,
          `<text x="${(x0 + labelWidth + w + 4).toFixed(1)}" y="${y + barHeight - 3}" font-size="10">${escapeXml(fmt(bar.value))}</text>`)
        y += barHeight
      }
      y += groupGap
    }
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

/** Panels of the chart: deliveries/s of the saturating phases, p99 of the fixed-rate ones. */
export function chartPanels (samples: Sample[], sections: Section[]): Panel[] {
  const panel = (title: string, figure: Figure): Panel => {
    const groups: Panel['groups'] = []
    for (const section of sections) {
      const rows = [...new Set(samples.filter((s) => s.section === section.title && s.figure === figure).map((s) => s.row))]
      for (const row of rows) {
        const bars = section.variants
          .map((variant) => ({ variant, value: medianOf(samples, section.title, row, figure, variant)?.median }))
          .filter((b): b is { variant: VariantName, value: number } => b.value !== undefined)
        if (bars.length > 0) groups.push({ label: row.replace(/ · (max|fixed rate)$/, ''), bars })
      }
    }
    return { title, groups }
  }
  return [panel('Deliveries/s, as fast as the server keeps up (higher is better)', 'dps'), panel('Latency p99 at a fixed offered rate, ms (lower is better)', 'p99Ms')]
}
