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
  type NetOpenEvent,
  type NetCloseEvent,
  type NetAppEvent,
  type NetErrorEvent,
  type DnsReqEvent,
  type DnsRespEvent,
  type HttpReqEvent,
  type HttpRespEvent,
  type ProcExitEvent,
  type NetOpenMetric,
  type NetCloseMetric,
  type NetRxMetric,
  type NetTxMetric,
  type NetDurationMetric,
  type NetErrorMetric,
  type NetTcpMetric,
  type NetUdpMetric,
  type NetOtherMetric,
  type NetPortMetric,
  type DnsReqMetric,
  type HttpReqMetric,
  type HttpDurationClientMetric,
  type HttpDurationServerMetric,
  type HttpReqContentLengthMetric,
  type HttpRespContentLengthMetric,
  type StatsdMetric,
  type NoticeEvent,
  type ProcChildMetric,
  type ProcCpuMetric,
  type ProcCpuPercMetric,
  type ProcFdMetric,
  type ProcMemMetric,
  type ProcStartMetric,
  type ProcThreadMetric,
  type ProcessStartRecord,
  type SnapshotRecord,
  type CrashRecord,
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
  'net.open': NetOpenEvent;
  'net.close': NetCloseEvent;
  'net.app': NetAppEvent;
  'net.error': NetErrorEvent;
  'dns.req': DnsReqEvent;
  'dns.resp': DnsRespEvent;
  'http.req': HttpReqEvent;
  'http.resp': HttpRespEvent;
  'proc.exit': ProcExitEvent;
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
  'net.open-metric': NetOpenMetric;
  'net.close-metric': NetCloseMetric;
  'net.rx': NetRxMetric;
  'net.tx': NetTxMetric;
  'net.duration': NetDurationMetric;
  'net.error-metric': NetErrorMetric;
  'net.tcp': NetTcpMetric;
  'net.udp': NetUdpMetric;
  'net.other': NetOtherMetric;
  'net.port': NetPortMetric;
  'dns.req-metric': DnsReqMetric;
  'http.req-metric': HttpReqMetric;
  'http.duration.client': HttpDurationClientMetric;
  'http.duration.server': HttpDurationServerMetric;
  'http.req.content_length': HttpReqContentLengthMetric;
  'http.resp.content_length': HttpRespContentLengthMetric;
  statsd: StatsdMetric;
  snapshot: SnapshotRecord;
  crash: CrashRecord;
}
const everyKindHasItsType: Same<Expected, RecordByKind> = true;
const kindsAreTheTypeKeys: Same<RecordKind, keyof RecordByKind> = true;

test('generated types exist for every record kind', () => {
  assert.ok(everyKindHasItsType && kindsAreTheTypeKeys);
  assert.is(recordKinds.length, 55);
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
  const error: FsErrorEvent['body']['data'] = { op: 'unlink', file: '/tmp/x', errno: 2, errno_name: 'ENOENT', message: 'No such file or directory', class: 'open_close' };
  // @ts-expect-error the error class is one of AppScope's three
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

test('the net, dns and http types carry the enums and the shared parts', () => {
  const open: NetOpenEvent['body']['data'] = {
    net_transport: 'IP.TCP',
    net_peer_ip: '127.0.0.1',
    net_peer_port: 8080,
    net_host_ip: '127.0.0.1',
    net_host_port: 40112,
    fd: 5,
    op: 'connect',
  };
  // @ts-expect-error net_transport is one of six
  const wrongTransport: NetOpenEvent['body']['data']['net_transport'] = 'TCP';
  // @ts-expect-error net_close_reason is local or remote
  const wrongReason: NetCloseEvent['body']['data']['net_close_reason'] = 'timeout';
  const flavor: HttpReqEvent['body']['data']['http_flavor'] = '2.0';
  // @ts-expect-error http_flavor is 1.0, 1.1 or 2.0
  const wrongFlavor: HttpReqEvent['body']['data']['http_flavor'] = 'HTTP/1.1';
  const resp: HttpRespEvent['body']['data'] = {
    http_method: 'GET',
    http_target: '/',
    http_flavor: '1.1',
    http_scheme: 'http',
    http_host: 'h',
    http_status_code: 200,
    http_status_text: 'OK',
    http_client_duration: 3,
  };
  const addrs: DnsRespEvent['body']['data']['addrs'] = ['127.0.0.1'];
  const netClass: NetErrorMetric['body']['class'] = 'dns';
  // @ts-expect-error the net.rx class is one of five
  const wrongClass: NetRxMetric['body']['class'] = 'tcp';
  const unit: HttpDurationServerMetric['body']['unit'] = 'millisecond';
  assert.is(open.fd, 5);
  assert.is(wrongTransport, 'TCP');
  assert.is(wrongReason, 'timeout');
  assert.is(flavor, '2.0');
  assert.is(wrongFlavor, 'HTTP/1.1');
  assert.is(resp.http_status_code, 200);
  assert.is(addrs.length, 1);
  assert.is(netClass, 'dns');
  assert.is(wrongClass, 'tcp');
  assert.is(unit, 'millisecond');
});

test('isRecordOf narrows a parsed record to its type', () => {
  const [example] = examplesIn('fs.close');
  const value: unknown = example?.value;
  if (!isRecordOf('fs.close', value)) throw new Error('fs.close example is not valid');
  // the totals are optional: absent for a process followed from outside (scope-supervise)
  const total: number = (value.body.data.file_read_bytes ?? 0) + (value.body.data.file_write_bytes ?? 0);
  assert.ok(total >= 0);
  const duration: number = value.body.data.duration;
  assert.ok(duration >= 0);
  assert.is(value.body.source, 'fs.close');
});

test.run();
