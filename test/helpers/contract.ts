/**
 * Every frame a test client receives passes through here, so the contract check (every frame
 * the server sends matches its message schema) has one place to live.
 */
import type { Frame } from './index.js'

export const receivedFrames: Frame[] = []

export function recordFrame (frame: Frame): void {
  receivedFrames.push(frame)
}
