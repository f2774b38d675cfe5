// Lifeguard's local health awareness (memberlist awareness.go): a node that misses acks is
// more likely slow itself (CPU starved, a congested link) than surrounded by failed peers. It
// keeps a score in [0, maxMultiplier − 1] and stretches its own probe timing by score + 1, so
// it gives others more time before it suspects them, instead of spreading false suspicions.

/** How each event moves the score (memberlist: probe failed +1, probe acked −1, refuting a suspicion of ourselves +1). */
export const AWARENESS_DELTA = Object.freeze({ probeFailed: 1, probeAcked: -1, refuted: 1 });

/** The score after `delta`, clamped to [0, maxMultiplier − 1] (memberlist's ApplyDelta). */
export function nextAwareness(score: number, delta: number, maxMultiplier: number): number {
  return Math.min(Math.max(0, maxMultiplier - 1), Math.max(0, score + delta));
}

/** `ms` stretched by a score: ms · (score + 1) (memberlist's ScaleTimeout). */
export function scaleByAwareness(ms: number, score: number): number {
  return ms * (score + 1);
}
