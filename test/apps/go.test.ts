/**
 * A real Go program under `scope run` (Go from Debian's golang-go, test/apps/install.sh), built here
 * with cgo so that it is dynamically linked and libscope is loaded into it. Its file and network
 * calls are Go's own system calls, not libc's: the session must say so (one notice, in the start
 * record, session.json and on stderr) rather than look like a run that did nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { elfInfo } from '@scope/libscope';
import { tempDir } from '@scope/core/testing';
import { assertValidSession, envFor, events, newHome, readLast, runBin, scopeRunBin, startRecords } from '../lib/harness.js';

const GO_SAYS = ' is a Go program: its file and network calls bypass libc and are not seen';

const source = `package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	b, err := os.ReadFile("/etc/hostname")
	if err != nil {
		panic(err)
	}
	// the net package with cgo on links libc: a dynamic executable
	_, _ = net.LookupHost("localhost")
	fmt.Printf("read %d bytes\\n", len(b))
}
`;

test('a dynamically linked Go program: one notice says its calls are not seen', async () => {
  const dir = tempDir('scope-go-');
  writeFileSync(join(dir, 'main.go'), source);
  writeFileSync(join(dir, 'go.mod'), 'module scopego\n\ngo 1.19\n');
  const exe = join(dir, 'readhost');
  // caches inside the temporary directory: nothing left behind in $HOME
  const built = spawnSync('go', ['build', '-o', exe, '.'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: '1', GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '-modcacherw' },
    timeout: 300_000,
  });
  assert.is(built.status, 0, built.stderr);
  const info = elfInfo(exe);
  assert.ok(info.elf && info.interpreter !== null, 'built as a dynamic executable');

  const home = newHome();
  const r = await runBin(scopeRunBin, ['--no-stream', '--', exe], envFor(home));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^read \d+ bytes\n$/);
  const says = exe + GO_SAYS;
  assert.is(r.stderr, `scope-run: notice: ${says}\n`);
  const { session, events: evs } = await readLast(home);
  assert.equal(session.manifest.notices, [says]);
  assert.equal(startRecords(evs).map((s) => s['info'].notices), [[says]]);
  // the blind spot itself: Go read /etc/hostname without libc, so there is no event for it
  assert.not.ok(events(evs, 'fs.open').some((e) => e['body'].data.file === '/etc/hostname'));
  await assertValidSession(session);
});

test.run();
