import type { Client } from '@temporalio/client';
import { barChart, lineChart, niceCeiling } from '../../src/console/chart-svg';
import { ChartFiguresCache, HOURS } from '../../src/console/charts';

/** A client whose visibility answers every count with 1 and every list with nothing, and counts the reads. */
function fakeClient() {
  const reads = { counts: [] as string[], lists: 0 };
  const client = {
    workflow: {
      count: async (query: string) => {
        reads.counts.push(query);
        return { count: 1, groups: [] };
      },
      list: () => {
        reads.lists++;
        return (async function* () {})();
      },
    },
  } as unknown as Client;
  return { client, reads };
}

describe('chart figures cache', () => {
  test('cold: two counts and one list per hour; warm: finished hours are not read again, the current one is', async () => {
    let now = Date.parse('2026-12-05T10:30:00Z');
    const { client, reads } = fakeClient();
    const cache = new ChartFiguresCache(client, () => now);
    const first = await cache.last24h('orders');
    expect(first).toHaveLength(HOURS);
    expect(first.at(-1)!.hour).toBe(Date.parse('2026-12-05T10:00:00Z'));
    expect(reads.counts).toHaveLength(2 * HOURS);
    expect(reads.lists).toBe(HOURS);
    expect(reads.counts[0]).toMatch(/HookflowSubscription = 'orders' AND CloseTime >= '.*' AND CloseTime < '.*'/);

    // Within 5 s nothing is read; later only the hours not yet final: the current one, and one that was
    // read before it had been over for a minute (visibility may trail it).
    await cache.last24h('orders');
    expect(reads.counts).toHaveLength(2 * HOURS);
    now += 10_000;
    await cache.last24h('orders');
    expect(reads.counts).toHaveLength(2 * HOURS + 2);
    now += 60 * 60_000; // the next hour: it is new, and the hour before it is read once more, as final
    await cache.last24h('orders');
    expect(reads.counts).toHaveLength(2 * HOURS + 2 + 2 * 2);
    now += 10_000;
    await cache.last24h('orders');
    expect(reads.counts).toHaveLength(2 * HOURS + 2 + 2 * 2 + 2);
  });
});

describe('svg charts', () => {
  test('axis maxima a reader can take in', () => {
    expect([0, 1, 3, 12, 20, 21, 480, 0.3].map(niceCeiling)).toEqual([1, 1, 5, 20, 20, 50, 500, 0.5]);
  });

  test('stacked bars and lines carry their figures; words are escaped', () => {
    const bars = barChart({
      id: 'b',
      title: 'A <b>title</b>',
      labels: ['09:00', '10:00'],
      series: [
        { name: 'delivered', colour: '#116329', values: [4, 0] },
        { name: 'failed', colour: '#b42318', values: [1, 0] },
      ],
    });
    expect(bars.svg).toContain('<title>A &lt;b&gt;title&lt;/b&gt;</title>');
    expect(bars.svg.match(/<rect /g)).toHaveLength(2);
    expect(bars.rows).toEqual([
      { label: '09:00', text: '4 delivered, 1 failed' },
      { label: '10:00', text: '0 delivered, 0 failed' },
    ]);
    const lines = lineChart({
      id: 'l',
      title: 't',
      labels: ['09:00', '10:00', '11:00'],
      unit: 's',
      series: [{ name: 'p50', colour: '#0a5fb4', values: [0.25, null, 1.5] }],
    });
    expect(lines.svg.match(/<circle /g)).toHaveLength(2);
    expect(lines.svg).not.toContain('<polyline'); // a gap breaks the line: no segment of two points
    expect(lines.rows.map((r) => r.text)).toEqual(['p50 0.25s', 'p50 -', 'p50 1.5s']);
  });
});
