/** wait `ms` on a timer (so vitest's fake timers drive it) */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
