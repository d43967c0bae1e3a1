// Function-entry hooks (src/interpose/hook.c) run by the hooktest driver (test/hook/hooktest.c),
// which links hook.c alone and hooks assembly functions with the prologues that matter (OpenSSL's
// push rbp; mov rbp,rsp; push r14 in node, endbr64, rip-relative lea and mov, sub rsp) while
// other threads call them. Each mode prints one line; a failure says what on stderr.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { prog } from './lib.js';

const HOOKTEST = prog('hooktest');

function hooktest(mode: string): string {
  const r = spawnSync(HOOKTEST, [mode], { encoding: 'utf8', timeout: 300_000 });
  assert.is(r.error, undefined, `${mode}: ${r.error}`);
  assert.is(r.signal, null, `${mode}: killed by ${r.signal}\n${r.stderr}`);
  assert.is(r.status, 0, `${mode}: status ${r.status}\n${r.stderr}`);
  assert.is(r.stderr, '', `${mode}: stderr`);
  return r.stdout;
}

test('decode: instruction lengths, rip-relative displacements and relative branches over a table (prefixes, REX.W imm64, ModRM/SIB/disp forms, VEX)', () => {
  const out = hooktest('decode');
  const m = /^decode ok (\d+)\n$/.exec(out);
  assert.ok(m, out);
  assert.ok(Number(m[1]) >= 80, `${m[1]} encodings checked`);
});

test('relocate: each prologue hooked runs the replacement, which gets the original result through h.original (rip-relative operands read the same bytes); jmp rel8, call rel32 and a 3-byte function are refused unchanged; a running thread blocking SIGTRAP gives EBUSY', () => {
  assert.is(hooktest('relocate'), 'relocate ok\n');
});

test('race: threads calling the function while it is hooked and unhooked 2000 times get every result right, and the replacement saw some of their calls', () => {
  const out = hooktest('race');
  const m = /^race ok installs=2000 calls=(\d+) hooked=(\d+) slow_calls=(\d+) slow_hooked=(\d+) busy=(\d+)\n$/.exec(out);
  assert.ok(m, out);
  const [calls, hooked, slowCalls, slowHooked] = m.slice(1, 5).map(Number) as [number, number, number, number];
  assert.ok(hooked > 0 && hooked <= calls, out);
  assert.ok(slowHooked > 0 && slowHooked <= slowCalls, out);
});

test('remove: the original bytes are back, calls no longer reach the replacement, and the trampoline still runs the function', () => {
  assert.is(hooktest('remove'), 'remove ok\n');
});

test("foreign-trap: with a hook installed, the program's own SIGTRAP handler still gets raise(SIGTRAP) and an int3 of its own; under SIG_DFL and SIG_IGN the process dies of SIGTRAP as it would without hooks", () => {
  assert.is(hooktest('foreign-trap'), 'foreign ok\n');
});

test.run();
