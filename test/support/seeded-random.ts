/**
 * A seeded pseudo-random generator (mulberry32) for tests that draw at random: the seed is printed, and
 * TEST_SEED=<seed> replays the same draws.
 */
export function seededRandom(name: string): () => number {
  const seed = Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  console.log(`${name}: random seed ${seed} (TEST_SEED=${seed} to replay)`);
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
