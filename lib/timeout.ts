/** Wait for `promise`, but never longer than `ms`; a rejection counts as done. For bounded shutdowns. */
export async function withTimeout (promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}
