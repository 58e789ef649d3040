/**
 * Capped exponential backoff for the OS services' retries: start small so a transient failure
 * recovers fast, cap it so a long outage is still retried often enough.
 */
export class Backoff {
  private next: number;
  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {
    this.next = initialMs;
  }
  delay(): number {
    const current = this.next;
    this.next = Math.min(this.next * 2, this.maxMs);
    return current;
  }
  reset(): void {
    this.next = this.initialMs;
  }
}
