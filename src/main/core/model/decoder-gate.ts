// Per-file decoder errors under parallel decodes.
//
// libvips keeps one error buffer per process, and sharp reads it when an operation fails and clears it
// whenever any operation ends, failed or not. With several decodes in flight a failure could therefore
// carry another file's message (a truncated JPEG reported as "vipspng: libpng read error") or none
// ("Unknown error"): 27 of 180 mixed corrupt files here, 35 of 180 in the issue. Every sharp operation of
// the decoders runs inside this gate, shared; when one fails with a message from libvips, it is run again
// exclusively (no other sharp operation of this process in flight), so the message it fails with then is
// its own. Failures are rare, so the cost is a second decode of a broken file while the others wait.

/** A shared/exclusive lock; a waiting exclusive holder goes before shared holders that come after it. */
export class SharedExclusiveGate {
  private shared = 0;
  private exclusive = false;
  private readonly queue: { exclusive: boolean; grant: () => void }[] = [];

  async runShared<T>(fn: () => Promise<T>): Promise<T> {
    if (this.exclusive || this.queue.length > 0) await new Promise<void>((grant) => this.queue.push({ exclusive: false, grant }));
    else this.shared++;
    try {
      return await fn();
    } finally {
      this.shared--;
      this.admit();
    }
  }

  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.exclusive || this.shared > 0 || this.queue.length > 0) await new Promise<void>((grant) => this.queue.push({ exclusive: true, grant }));
    else this.exclusive = true;
    try {
      return await fn();
    } finally {
      this.exclusive = false;
      this.admit();
    }
  }

  private admit(): void {
    while (this.queue.length > 0 && !this.exclusive) {
      const next = this.queue[0];
      if (next.exclusive) {
        if (this.shared > 0) return;
        this.queue.shift();
        this.exclusive = true;
        next.grant();
        return;
      }
      this.queue.shift();
      this.shared++;
      next.grant();
    }
  }
}

const gate = new SharedExclusiveGate();
/** Errors whose message came from libvips' shared error buffer (see decoderError). */
const fromLibvips = new WeakSet<object>();

/** Marks an error as carrying a libvips message, which may be another decode's until confirmed. */
export function markLibvipsError<E extends Error>(error: E): E {
  fromLibvips.add(error);
  return error;
}

/**
 * Runs a decode (any code that runs sharp operations) beside the others; if it fails with a libvips
 * message, runs it once more alone and returns or throws what that run gives.
 */
export async function runDecode<T>(decode: () => Promise<T>): Promise<T> {
  try {
    return await gate.runShared(decode);
  } catch (error) {
    if (!(error instanceof Error) || !fromLibvips.has(error)) throw error;
    return gate.runExclusive(decode);
  }
}
