/**
 * Contract of the envelope workflow (client side and worker side): a request with more notifications
 * than `server.envelopes.splitAbove` is acknowledged after one durable start of `envelope/...` (input:
 * this, and the raw body gzipped as bytes), whose activity parses the same body again and starts each notification's inbound workflow, with the
 * same ids, search attributes and dedup as a small request.
 */
import { boundedWorkflowId } from './bounded';

export interface EnvelopeInput {
  sourceId: string;
  /** When the front door received the request: every notification keeps it as its receivedAt. */
  receivedAt: string;
  /** How many notifications the front door parsed (the activity checks it finds the same). */
  notifications: number;
}

export interface EnvelopeResult {
  notifications: number;
  started: number;
  duplicates: number;
  /** Notifications Temporal refused permanently (as a small request would get 422 for). */
  refused: Array<{ eventKey: string; reason: string }>;
}

/** Named after the first notification's key and the count: a retry of the same request gets the same id. */
export function envelopeWorkflowId(sourceId: string, firstEventKey: string, notifications: number): string {
  return boundedWorkflowId(`envelope/${sourceId}/${firstEventKey}/${notifications}`);
}
