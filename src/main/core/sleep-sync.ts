// Waits without returning to the event loop, for the few synchronous paths that must retry (opening the
// catalogue, taking the writer lock): better-sqlite3 is synchronous, so they cannot await a timer.
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
