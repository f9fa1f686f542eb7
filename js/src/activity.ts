// Active labelling time. Every user input "touches" the clock; the time between two touches counts as
// work unless it is longer than the idle limit (a coffee break is not labelling). Each finished edit
// takes the time accumulated since the previous one, so the events' durations add up to the session's
// active time.

export class ActivityClock {
  private last: number;
  private acc = 0;

  constructor(
    private readonly idleMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = now();
  }

  touch(): void {
    const t = this.now();
    const gap = t - this.last;
    if (gap > 0 && gap <= this.idleMs) this.acc += gap;
    this.last = t;
  }

  /** Milliseconds of active time since the last call; restarts the count. */
  take(): number {
    this.touch();
    const ms = Math.round(this.acc);
    this.acc = 0;
    return ms;
  }

  /** A new image was shown: time spent before it belongs to nothing. */
  restart(): void {
    this.last = this.now();
    this.acc = 0;
  }
}
