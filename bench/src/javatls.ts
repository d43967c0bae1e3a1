/**
 * Java's TLS under scope: one JVM serving HTTPS (com.sun.net.httpserver, TCP_NODELAY) and asking
 * itself with the HttpClient (HTTP/1.1, one keep-alive connection), requests/s for a few seconds
 * after 300 to warm up (the tests' Java program in its `load` mode, test/apps/programs/java); plain, and with libscope preloaded and every event on, which makes the JVM
 * load libscope as its agent and rewrite the JDK's TLS classes (libscope/src/interpose/jvm.c).
 * Medians of interleaved runs; scoped ÷ plain. The scoped run must have recorded the requests (http
 * events, each request twice: the client's and the server's), or the bench fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from './common.js';
import { arg, clearRecords, median, mustHaveRecorded, needs, r1, r3, runAsync, scoped } from './common.js';

/** `--only javatls`. */
export async function javaTls(c: Ctx): Promise<void> {
  const skip = needs([
    ['javac', 'openjdk-17-jdk-headless'],
    ['keytool', 'openjdk-17-jdk-headless'],
  ]);
  if (skip) {
    process.stdout.write(`Java TLS: ${skip}\n`);
    return;
  }
  const runs = arg('javatls-runs', 5);
  const secs = arg('javatls-secs', 5);
  const dir = join(c.work, 'javatls');
  mkdirSync(dir, { recursive: true });
  execFileSync('javac', ['-d', dir, join(c.benchDir, '..', 'test', 'apps', 'programs', 'java', 'TlsSelf.java')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ks = join(dir, 'ks.p12');
  execFileSync(
    'keytool',
    [
      '-genkeypair',
      '-alias',
      'bench',
      '-keyalg',
      'EC',
      '-groupname',
      'secp256r1',
      '-dname',
      'CN=127.0.0.1',
      '-ext',
      'SAN=ip:127.0.0.1',
      '-validity',
      '1',
      '-keystore',
      ks,
      '-storetype',
      'PKCS12',
      '-storepass',
      'changeit',
      '-keypass',
      'changeit',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const s = scoped(c, 'javatls', 'all_events');
  const args = ['-XX:-UsePerfData', '-cp', dir, 'TlsSelf', 'load', ks, String(secs)];
  const one = async (env: NodeJS.ProcessEnv): Promise<number> => {
    const r = await runAsync('java', args, { env, timeoutMs: secs * 1000 + 60_000 });
    const v = Number(r.stdout.trim());
    if (!(v > 0)) throw new Error(`Java TLS: no rate from the program: ${r.stdout}${r.stderr}`);
    return v;
  };
  const rps: Record<'plain' | 'scoped', number[]> = { plain: [], scoped: [] };
  await one(c.plainEnv); // warm up (the JDK's class data)
  for (let i = 0; i < runs; i++) {
    rps.plain.push(await one(c.plainEnv));
    clearRecords(s);
    rps.scoped.push(await one(s.env));
    const rec = await mustHaveRecorded(s, 'Java TLS', 'http');
    if ((rec.events['http'] ?? 0) < 1000) throw new Error(`Java TLS: only ${rec.events['http'] ?? 0} http events recorded`);
    clearRecords(s);
  }
  const plain = median(rps.plain);
  const sc = median(rps.scoped);
  const ratio = sc / plain;
  c.latest['javatls'] = { runs, seconds: secs, requests_per_sec_median: { plain: r1(plain), scoped: r1(sc) }, ratio: r3(ratio) };
  process.stdout.write(
    `Java TLS (HttpClient ↔ HttpsServer in one JVM, ${secs} s), median of ${runs}: plain ${plain.toFixed(0)}, scoped with every event on ${sc.toFixed(0)} req/s (${ratio.toFixed(3)})\n`,
  );
}
