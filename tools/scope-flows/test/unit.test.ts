import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inCidr, parseCidr, parseIp } from '../src/ip.js';
import { FlowTracker, flowId, payloadBases, shapeProblem, sortFlows, toRecord } from '../src/flows.js';
import { formatDuration } from '../src/table.js';
import { parsePeers } from '../src/command.js';

const hex = (text: string) => Buffer.from(parseIp(text)!.bytes).toString('hex');

test('IPv4 and IPv6 addresses parse to bytes; IPv4-mapped ones become IPv4', () => {
  assert.is(hex('10.1.2.3'), '0a010203');
  assert.is(hex('2001:db8::17'), '20010db8000000000000000000000017');
  assert.is(hex('::1'), '00000000000000000000000000000001');
  assert.is(hex('1::'), '00010000000000000000000000000000');
  assert.is(hex('::'), '00000000000000000000000000000000');
  assert.is(hex('64:ff9b::1.2.3.4'), '0064ff9b000000000000000001020304');
  assert.is(hex('fe80::1%eth0'), 'fe800000000000000000000000000001');
  assert.equal(parseIp('::ffff:10.0.0.7'), { family: 4, bytes: Uint8Array.from([10, 0, 0, 7]) });
  assert.is(parseIp('1.2.3'), null);
  assert.is(parseIp('2001:db8:::1'), null);
  assert.is(parseIp('unix'), null);
});

test('CIDR networks match what lies inside them, bare addresses only themselves', () => {
  const yes = (addr: string, net: string) => inCidr(parseIp(addr)!, parseCidr(net)!);
  assert.ok(yes('10.200.3.4', '10.0.0.0/8'));
  assert.not.ok(yes('11.0.0.1', '10.0.0.0/8'));
  assert.ok(yes('192.168.1.130', '192.168.1.128/25'));
  assert.not.ok(yes('192.168.1.127', '192.168.1.128/25'));
  assert.ok(yes('8.8.8.8', '0.0.0.0/0'));
  assert.not.ok(yes('::1', '0.0.0.0/0'), 'IPv6 is not in an IPv4 network');
  assert.ok(yes('2001:db8::17', '2001:db8::/32'));
  assert.not.ok(yes('2001:db9::17', '2001:db8::/32'));
  assert.ok(yes('2001:db8::17', '2001:db8::17'));
  assert.not.ok(yes('2001:db8::18', '2001:db8::17'));
  assert.ok(yes('127.0.0.1', '127.0.0.1'));
  assert.ok(yes('::ffff:10.0.0.7', '10.0.0.0/24'), 'mapped peer in an IPv4 network');
  assert.ok(yes('10.0.0.7', '::ffff:10.0.0.0/120'), 'IPv4 peer in a mapped network');
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'localhost', '10.0.0.256', '']) {
    assert.is(parseCidr(bad), null, bad);
  }
});

test('--peer takes a comma list and names the bad value', () => {
  assert.is(parsePeers('10.0.0.0/8, ::1').length, 2);
  try {
    parsePeers('10.0.0.0/8,bogus/3');
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, '"bogus/3"');
    assert.is((err as { exitCode: number }).exitCode, 2);
  }
});

const evt = (channel: string, pid: number, source: string, time: number, data: Record<string, unknown>) => ({
  type: 'evt',
  id: 'h-p-c',
  _channel: channel,
  body: { sourcetype: 'net', _time: time, source, host: 'h', proc: 'p', cmd: 'c', pid, data },
});
const tcp = { net_transport: 'IP.TCP', net_peer_ip: '1.2.3.4', net_peer_port: 80, net_host_ip: '10.0.0.2', net_host_port: 5555 };

test('a flow is pid + _channel; open, app and close events fill it in', () => {
  const t = new FlowTracker();
  assert.equal(t.feed(evt('7', 1, 'net.open', 10, { ...tcp, fd: 3, op: 'connect' })).kind, 'flow');
  t.feed(evt('7', 2, 'net.open', 10.5, { ...tcp, fd: 3, op: 'connect' }));
  t.feed(evt('7', 1, 'net.app', 10.6, { net_protocol: 'TLS', fd: 3 }));
  t.feed(evt('7', 1, 'net.app', 10.7, { net_protocol: 'HTTP', fd: 3 }));
  const fed = t.feed(evt('7', 1, 'net.close', 11, { ...tcp, fd: 3, op: 'close', net_protocol: 'HTTP', duration: 1000, net_bytes_sent: 5, net_bytes_recv: 9, net_close_reason: 'remote' }));
  assert.ok(fed.kind === 'flow' && fed.closed);
  t.feed(evt('0', 2, 'stdout', 12.25, { message: 'x' }));
  const [a, b] = t.flows().map((f) => toRecord(f, t.lastTime));
  assert.is(a!.protocol, 'IP.TCP TLS HTTP');
  assert.is(a!.bytes_in, 9);
  assert.is(a!.bytes_out, 5);
  assert.is(a!.close, 'remote');
  assert.is(a!.duration, 1000);
  assert.is(b!.id, '2');
  assert.is(b!.close, 'open');
  assert.is(b!.bytes_in, null);
  assert.is(b!.duration, 1750, 'an open flow lasts until the last event seen');
});

test('a close without totals (a process followed from outside): bytes unknown, closed by a side not known', () => {
  const t = new FlowTracker();
  t.feed(evt('7', 1, 'net.open', 1, tcp));
  t.feed(evt('7', 1, 'net.close', 2, { ...tcp, duration: 1000 }));
  assert.equal(
    t.flows().map((f) => [f.close, f.bytesIn, f.bytesOut, f.duration]),
    [['closed', null, null, 1000]],
  );
});

test('ids are base 36 of the order first seen; a reopened channel is a new flow', () => {
  assert.equal([1, 9, 10, 35, 36, 1296].map(flowId), ['1', '9', 'a', 'z', '10', '100']);
  const t = new FlowTracker();
  const close = { ...tcp, duration: 1, net_bytes_sent: 0, net_bytes_recv: 0, net_close_reason: 'local' };
  t.feed(evt('7', 1, 'net.open', 1, tcp));
  t.feed(evt('7', 1, 'net.close', 2, close));
  t.feed(evt('7', 1, 'net.open', 3, tcp));
  assert.equal(
    t.flows().map((f) => [f.seq, f.close]),
    [
      [1, 'local'],
      [2, 'open'],
    ],
  );
  assert.is(t.find('2')?.seq, 2);
});

test('payload file names follow libscope: pid_peer_local, unix by local inode, unknown addresses empty', () => {
  const t = new FlowTracker();
  t.feed(evt('1', 4, 'net.open', 1, tcp));
  t.feed(evt('2', 4, 'net.open', 1, { net_transport: 'Unix.TCP', unix_peer_inode: 5, unix_local_inode: 6 }));
  t.feed(evt('3', 4, 'net.open', 1, { net_transport: 'IP.UDP', net_peer_ip: '10.0.0.5', net_peer_port: 514, net_host_ip: '0.0.0.0', net_host_port: 0 }));
  t.feed(evt('4', 4, 'net.open', 1, { net_transport: 'IP.TCP', net_peer_ip: '::1', net_peer_port: 80, net_host_ip: '::1', net_host_port: 9 }));
  assert.equal(t.flows().map(payloadBases), [['4_1.2.3.4:80_10.0.0.2:5555'], ['4_unix_6'], ['4_10.0.0.5:514_0.0.0.0:0', '4_10.0.0.5:514_:0'], ['4_::1:80_::1:9']]);
});

test('records of the wrong shape are named; other records pass', () => {
  assert.is(shapeProblem({ type: 'metric', body: {} }), null);
  assert.is(shapeProblem({ format: 'ndjson', info: {} }), null);
  assert.is(shapeProblem(evt('1', 1, 'fs.open', 1, {})), null);
  assert.match(shapeProblem({ a: 1 }) ?? '', 'not a scope record');
  assert.match(shapeProblem({ type: 'evt' }) ?? '', 'without a body');
  assert.match(shapeProblem(evt('1', 1, 'net.close', 1, tcp)) ?? '', 'duration');
  assert.match(shapeProblem(evt('1', 1, 'net.close', 1, { ...tcp, duration: 1, net_bytes_sent: 'x' })) ?? '', 'net_bytes_sent');
  assert.match(shapeProblem(evt('1', 1, 'net.close', 1, { ...tcp, duration: 1, net_close_reason: 'peer' })) ?? '', 'net_close_reason');
  // a process followed from outside (scope-supervise): no byte totals, no close reason
  assert.is(shapeProblem(evt('1', 1, 'net.close', 1, { ...tcp, duration: 1 })), null);
  assert.match(shapeProblem({ ...evt('1', 1, 'net.open', 1, tcp), _channel: 5 }) ?? '', '_channel');
  assert.match(shapeProblem(evt('1', 1, 'net.app', 1, {})) ?? '', 'net_protocol');
});

test('sorting: numbers, addresses, unknown values last either way', () => {
  const t = new FlowTracker();
  const close = (recv: number) => ({ duration: 1, net_bytes_sent: 0, net_bytes_recv: recv, net_close_reason: 'local' });
  const at = (ip: string, port: number) => ({ net_transport: 'IP.TCP', net_peer_ip: ip, net_peer_port: port, net_host_ip: '::', net_host_port: 1 });
  t.feed(evt('1', 1, 'net.close', 1, { ...at('10.0.0.10', 80), ...close(50) }));
  t.feed(evt('2', 1, 'net.open', 1, at('::1', 80)));
  t.feed(evt('3', 1, 'net.close', 1, { ...at('10.0.0.9', 443), ...close(70) }));
  t.feed(evt('4', 1, 'net.close', 1, { ...at('10.0.0.9', 80), ...close(10) }));
  const ids = (field: 'in' | 'peer', reverse: boolean) => sortFlows(t.flows(), field, reverse, t.lastTime).map((f) => f.seq);
  assert.equal(ids('in', false), [4, 1, 3, 2]);
  assert.equal(ids('in', true), [3, 1, 4, 2]);
  assert.equal(ids('peer', false), [4, 3, 1, 2]);
  assert.equal(ids('peer', true), [2, 1, 3, 4]);
});

test('durations for people', () => {
  assert.equal([0, 999, 1000, 30560, 60_000, 303_000, 7_620_000].map(formatDuration), ['0ms', '999ms', '1.00s', '30.56s', '1m00s', '5m03s', '2h07m']);
});

test.run();
