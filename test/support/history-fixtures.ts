import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { keyringFromConfig } from '../../src/security/keyring';
import { EncryptionCodec } from '../../src/security/payload-codec';
import { FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';

/**
 * Recorded workflow histories (test/fixtures/histories/<name>.json) that test/replay/histories.test.ts
 * replays against the current workflow code. They were recorded by test/replay/record-histories.recorder.ts (npm run record:histories)
 * with hookflow's data converter (payloads and failure messages encrypted), so the replay decodes them
 * with the same converter and this key: a public, test-only key (derived from a fixed phrase) that
 * protects nothing but the made-up test data in the fixtures. Real keys never go near them.
 */
export const HISTORIES_DIR = resolve(__dirname, '../fixtures/histories');

export const FIXTURE_KEY = {
  id: 'replay-fixtures',
  key: createHash('sha256').update('hookflow replay fixtures: public test-only key').digest('base64'),
};

/** The `security:` config of the recording run. */
export const FIXTURE_SECURITY_YAML = `security: { encryptionKeys: [{ id: ${FIXTURE_KEY.id}, key: "${FIXTURE_KEY.key}" }] }`;

/** The data converter the recording run used (src/temporal/data-converter.ts with the fixture key). */
export function fixtureDataConverter(): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(keyringFromConfig([FIXTURE_KEY]))],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

const { History } = temporal.api.history.v1;

/**
 * A history as JSON, in protobufjs's own JSON form (enums by name, 64-bit integers and bytes as strings),
 * which `historyFromFixture` reads back exactly. Not `historyToJSON` of @temporalio/common: with the two
 * copies of protobufjs this install has (common's and proto's), it throws "type must be a Type".
 */
export function historyToFixture(history: temporal.api.history.v1.IHistory): string {
  const json = History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
  return `${JSON.stringify(json, null, 1)}\n`;
}

export function historyFromFixture(text: string): temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(text));
}

export interface RecordedHistory {
  /** The fixture's name (file name without .json), used as the workflow id of the replay. */
  name: string;
  workflowType: string;
  history: temporal.api.history.v1.IHistory;
}

export function loadHistories(dir = HISTORIES_DIR): RecordedHistory[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const history = historyFromFixture(readFileSync(join(dir, file), 'utf8'));
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      return { name: file.replace(/\.json$/, ''), workflowType: started?.workflowType?.name ?? '?', history };
    });
}
