// Keeps at most `window` requests in flight to the kernel; newer requests replace a waiting one.
// Answers carry the sequence number they answer and the highest one the kernel has received; the
// latter acknowledges every request up to it (the kernel may skip older ones in favour of newer:
// the newest pointer position wins). A request left waiting is sent anyway after `staleMs`.

export interface PacerStats { sent: number; answered: number; firstSent: number; lastAnswered: number }

export class RequestPacer {
  private seq = 0;
  private inFlight: { seq: number; at: number }[] = [];
  private waiting: Record<string, unknown> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  readonly stats: PacerStats = { sent: 0, answered: 0, firstSent: 0, lastAnswered: 0 };

  constructor(private readonly send: (msg: Record<string, unknown>) => void, private readonly window = 2,
    private readonly staleMs = 2000) {}

  /** Send `msg` now if the window allows, else keep it as the one waiting request. */
  request(msg: Record<string, unknown>): void {
    const now = performance.now();
    this.inFlight = this.inFlight.filter((r) => now - r.at < this.staleMs); // lost answers never stall us
    if (this.inFlight.length >= this.window) {
      this.waiting = msg;
      this.timer ??= setTimeout(() => this.flushWaiting(), this.staleMs);
      return;
    }
    this.seq += 1;
    this.inFlight.push({ seq: this.seq, at: now });
    if (!this.stats.sent) this.stats.firstSent = now;
    this.stats.sent += 1;
    this.send({ ...msg, seq: this.seq });
  }

  /** An answer to request `seq` arrived (0: not an answer to a paced request); the kernel has received
   * every request up to `ack`. */
  answered(seq: number, ack: number = seq): void {
    if (seq > 0) {
      this.stats.answered += 1;
      this.stats.lastAnswered = performance.now();
    }
    const upTo = Math.max(seq, ack);
    if (upTo <= 0) return;
    this.inFlight = this.inFlight.filter((r) => r.seq > upTo);
    if (this.waiting && this.inFlight.length < this.window) this.flushWaiting();
  }

  private flushWaiting(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = this.waiting;
    this.waiting = null;
    if (next) this.request(next);
  }
}
