/** Checks of single option values: each fails with `WS_ERR_INVALID_OPTION` naming the option and what was expected. */
import { invalidOption } from './errors.js'

export function positiveInt (name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw invalidOption(name, allowZero ? 'an integer ≥ 0' : 'a positive integer', value)
  }
  return value
}

export function booleanOption (name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value)
  return value
}

export function optionalFunction<T> (name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(name, 'a function', value)
  return value
}
