// The generated types: each record kind has one, under the name its schema's title gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  isRecordOf,
  recordKinds,
  type ConsoleEvent,
  type FileEvent,
  type FsCloseEvent,
  type FsCloseMetric,
  type FsDeleteEvent,
  type FsDurationMetric,
  type FsErrorEvent,
  type FsErrorMetric,
  type FsMkdirEvent,
  type FsOpenEvent,
  type FsOpenMetric,
  type FsReadMetric,
  type FsRenameEvent,
  type FsSeekMetric,
  type FsStatMetric,
  type FsWriteMetric,
  type NoticeEvent,
  type ProcChildMetric,
  type ProcCpuMetric,
  type ProcCpuPercMetric,
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
  'fs.delete': FsDeleteEvent;
  'fs.rename': FsRenameEvent;
  'fs.mkdir': FsMkdirEvent;
  'fs.error': FsErrorEvent;
  console: ConsoleEvent;
  file: FileEvent;
  notice: NoticeEvent;
  metric: ScopeMetric;
  'proc.start': ProcStartMetric;
  'proc.cpu': ProcCpuMetric;
  'proc.cpu_perc': ProcCpuPercMetric;
  'proc.mem': ProcMemMetric;
  'proc.thread': ProcThreadMetric;
  'proc.fd': ProcFdMetric;
  'proc.child': ProcChildMetric;
  'fs.open-metric': FsOpenMetric;
  'fs.close-metric': FsCloseMetric;
  'fs.read': FsReadMetric;
  'fs.write': FsWriteMetric;
  'fs.seek': FsSeekMetric;
  'fs.stat': FsStatMetric;
  'fs.duration': FsDurationMetric;
  'fs.error-metric': FsErrorMetric;
}
const everyKindHasItsType: Same<Expected, RecordByKind> = true;
const kindsAreTheTypeKeys: Same<RecordKind, keyof RecordByKind> = true;

test('generated types exist for every record kind', () => {
  assert.ok(everyKindHasItsType && kindsAreTheTypeKeys);
  assert.is(recordKinds.length, 27);
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
  const error: FsErrorEvent['body']['data'] = { op: 'unlink', file: '/tmp/x', errno: 2, errno_name: 'ENOENT', message: 'No such file or directory', class: 'namespace' };
  // @ts-expect-error the error class is one of five
  const wrongClass: FsErrorEvent['body']['data']['class'] = 'delete';
  // @ts-expect-error fs.delete's op is unlink, unlinkat or rmdir
  const wrongOp: FsDeleteEvent['body']['data']['op'] = 'remove';
  // Metric dimensions beyond _metric, _metric_type and _value depend on the verbosity: all optional.
  const read: FsReadMetric = { type: 'metric', body: { _metric: 'fs.read', _metric_type: 'counter', _value: 7, _time: 1763890000.5 } };
  const unit: FsReadMetric['body']['unit'] = read.body.unit;
  const records: ScopeRecord[] = [open, read];
  assert.is(fd, 3);
  assert.is(cpu, 'microsecond');
  assert.is(wrongUnit, 'byte');
  assert.is(wrongClass, 'delete');
  assert.is(wrongOp, 'remove');
  assert.is(unit, undefined);
  assert.is(records.length, 2);
  assert.ok(isRecordOf('fs.open', open));
  assert.ok(isRecordOf('fs.read', read));
  assert.ok(isRecordOf('fs.error', { ...open, body: { ...open.body, source: 'fs.error', data: error } }));
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
