/**
 * Rotation of a subscription's signing secret (docs/security.md "Rotating a subscription's secret").
 * Pure: the subscription workflow (which promotes the next secret when its time comes) and the delivery
 * activity (which signs by the same clock comparison) both use it.
 */
import type { SignatureScheme, Subscription, SubscriptionPatch } from './subscription';

/** Schemes whose header carries several signatures (`v1,<old> v1,<new>`): the others carry one. */
export const MULTI_SIGNATURE_SCHEMES: ReadonlySet<SignatureScheme> = new Set(['standard-webhooks']);

type Rotation = Pick<Subscription, 'signature' | 'nextSecret' | 'overlapUntil' | 'rotateAt'>;

/**
 * When the next secret alone signs (epoch ms): `overlapUntil` for Standard Webhooks, `rotateAt` for the
 * single-signature schemes, each falling back to the other (so changing the scheme mid-rotation still
 * switches). Undefined without a next secret or a time.
 */
export function rotationSwitchAt(subscription: Rotation): number | undefined {
  if (subscription.nextSecret === undefined) return undefined;
  const { overlapUntil, rotateAt } = subscription;
  const at = MULTI_SIGNATURE_SCHEMES.has(subscription.signature)
    ? (overlapUntil ?? rotateAt)
    : (rotateAt ?? overlapUntil);
  const ms = at === undefined ? NaN : Date.parse(at);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The next secret becomes the secret: what the subscription workflow applies at the switch time. */
export function promotionPatch(subscription: Rotation): SubscriptionPatch {
  return { secret: subscription.nextSecret, nextSecret: null, overlapUntil: null, rotateAt: null };
}

/**
 * The secrets that sign at `nowMs`, in header order: before the switch the current one (and, for
 * Standard Webhooks, the next one after it), from the switch on the next one only.
 */
export function signingSecrets<T>(
  scheme: SignatureScheme,
  current: T | undefined,
  next: T | undefined,
  switchAtMs: number | undefined,
  nowMs: number,
): T[] {
  if (next === undefined) return current === undefined ? [] : [current];
  if (switchAtMs !== undefined && nowMs >= switchAtMs) return [next];
  if (current === undefined) return [next];
  return MULTI_SIGNATURE_SCHEMES.has(scheme) ? [current, next] : [current];
}
