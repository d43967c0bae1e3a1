// The generated types: each record kind has one, under the name its schema's title gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  isRecordOf,
  recordKinds,
  type ConsoleEvent,
  type FsCloseEvent,
  type FsOpenEvent,
  type NoticeEvent,
  type ProcCpuMetric,
  type ProcFdMetric,
  type ProcMemMetric,
  type ProcStartMetric,
  type ProcThreadMetric,
  type ProcessStartRecord,
  type RecordByKind,
  type RecordKind,
  type ScopeEvent,
  type ScopeMetric,
  type ScopeRecord,
} from '../src/index.js';
import { examplesIn } from './fixtures.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Fails to compile when a schema loses its type, a type is renamed, or a kind is added without one.
interface Expected {
  'process-start': ProcessStartRecord;
  event: ScopeEvent;
  'fs.open': FsOpenEvent;
  'fs.close': FsCloseEvent;
  console: ConsoleEvent;
  notice: NoticeEvent;
  metric: ScopeMetric;
  'proc.start': ProcStartMetric;
  'proc.cpu': ProcCpuMetric;
  'proc.mem': ProcMemMetric;
  'proc.thread': ProcThreadMetric;
  'proc.fd': ProcFdMetric;
}
const everyKindHasItsType: Same<Expected, RecordByKind> = true;
const kindsAreTheTypeKeys: Same<RecordKind, keyof RecordByKind> = true;

test('generated types exist for every record kind', () => {
  assert.ok(everyKindHasItsType && kindsAreTheTypeKeys);
  assert.is(recordKinds.length, 12);
});

test('the types carry the schema constraints a program relies on', () => {
  const open: FsOpenEvent = {
    type: 'evt',
    id: 'h-cat-cat f',
    _channel: '7',
    body: { sourcetype: 'fs', source: 'fs.open', _time: 1763890000.5, host: 'h', proc: 'cat', cmd: 'cat f', pid: 9, data: { file: '/f', op: 'open', fd: 3 } },
  };
  const fd: number = open.body.data.fd;
  const cpu: ProcCpuMetric['body']['unit'] = 'microsecond';
  // @ts-expect-error proc.mem's unit is fixed
  const wrongUnit: ProcMemMetric['body']['unit'] = 'byte';
  const records: ScopeRecord[] = [open];
  assert.is(fd, 3);
  assert.is(cpu, 'microsecond');
  assert.is(wrongUnit, 'byte');
  assert.is(records.length, 1);
  assert.ok(isRecordOf('fs.open', open));
});

test('isRecordOf narrows a parsed record to its type', () => {
  const [example] = examplesIn('fs.close');
  const value: unknown = example?.value;
  if (!isRecordOf('fs.close', value)) throw new Error('fs.close example is not valid');
  const total: number = value.body.data.file_read_bytes + value.body.data.file_write_bytes;
  assert.ok(total >= 0);
  assert.is(value.body.source, 'fs.close');
});

test.run();
