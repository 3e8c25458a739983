/** Timing of a lane, from the config (`delivery.ordering`). */
export interface LaneTiming {
  /** An event waits until it is this old (since accepted) before it is sent, so that an earlier event still being handed off can overtake it. */
  settleMs: number;
  /** A lane with nothing to do for this long ends (the next event starts it again). */
  idleMs: number;
  /**
   * The longest a head waits for earlier events of its entity whose inbound workflows still run
   * (a follow-up fetch being retried); then it is sent. Absent in lanes started before it existed.
   */
  maxHoldMs?: number;
}
