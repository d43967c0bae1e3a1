/// <reference lib="dom" />
/**
 * scope report --html in a real browser: Debian's Chromium (headless, driven by playwright-core)
 * opens the page from disk, the DOM is checked against the session (every section's rows against
 * the JSON report's counts, one tree item per process), a heading click sorts its table, no script
 * error reaches the console (the page's policy lets its own style sheet and script run, by hash),
 * nothing is fetched, markup in a file name or command line stays text, and the page fits a
 * phone-width window (screenshots at 390 and 1400 pixels wide).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { tempDir } from '@scope/core/testing';
import { envFor, newHome, runBin, scopeBin } from '../lib/harness.js';
import type { Rec } from '../lib/harness.js';

const browserPath = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();

test('the HTML report in Chromium: sections as the session has them, sortable, no console error, no request, phone width', async () => {
  const srv = createServer((req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : 200;
    res.end('x'.repeat(1000));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  const home = newHome();
  const dir = tempDir('scope-report-html-');
  try {
    const script = [
      `for i in 1 2 3 4 5; do curl -s --noproxy '*' http://127.0.0.1:${port}/items/$i >/dev/null; done`,
      `curl -s --noproxy '*' http://127.0.0.1:${port}/missing >/dev/null`,
      `tar cf ${dir}/doc.tar /etc/hostname /etc/os-release 2>/dev/null`,
      `cat /nonexistent 2>/dev/null`,
      // A program chooses its file names and arguments: markup in them must stay text.
      `echo hi > '${dir}/<img src=x onerror=alert(1)>.txt'`,
      `/bin/true '</code><script>alert(2)</script>'`,
      `rm ${dir}/doc.tar`,
      'sleep 1.2',
    ].join('; ');
    const ran = await runBin(scopeBin, ['run', '--no-stream', '--', 'sh', '-c', script], envFor(home, { SCOPE_SUMMARY_PERIOD: '1' }));
    assert.is(ran.status, 0, ran.stderr);
    const json = await runBin(scopeBin, ['report', '--json'], envFor(home));
    assert.is(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as Rec;
    const file = join(dir, 'report.html');
    const html = await runBin(scopeBin, ['report', '--html', file], envFor(home));
    assert.is(html.status, 0, html.stderr);

    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`file://${file}`);

      const counts = await page.evaluate(() => {
        const out: Record<string, { count: number; rows: number }> = {};
        document.querySelectorAll('section[data-count]').forEach((s) => {
          out[s.id] = { count: Number((s as HTMLElement).dataset['count']), rows: s.querySelectorAll('tbody tr').length };
        });
        return { sections: out, procs: document.querySelectorAll('#processes li.proc').length, charts: document.querySelectorAll('figure.chart svg').length };
      });
      const expected: Record<string, number> = {
        functions: report['functions'].length,
        'files-read': report['files'].read.length,
        'files-written': report['files'].written.length,
        'files-deleted': report['files'].deleted.length,
        connections: report['connections'].length,
        http: report['http'].length,
        dns: report['dns'].length,
        failures: report['failures'].length,
      };
      for (const [id, n] of Object.entries(expected)) {
        assert.is(counts.sections[id]?.count, n, `${id}: data-count`);
        assert.is(counts.sections[id]?.rows, n, `${id}: table rows`);
      }
      assert.is(counts.sections['processes']?.count, report['process_count']);
      assert.is(counts.procs, report['process_count']);
      assert.ok(report['process_count'] >= 10, `processes: ${report['process_count']}`);
      assert.is(report['http'].find((h: Rec) => h.route === '/items/:n')?.count, 5);
      assert.is(counts.charts, counts.sections['charts']?.count);
      assert.ok(counts.charts >= 5, `charts: ${counts.charts}`);

      // A click on "calls" sorts the functions by it, biggest first on the second click.
      const calls = () => page.$$eval('#functions-table tbody tr', (rows) => rows.map((r) => Number((r.children[1] as HTMLElement).dataset['key'])));
      await page.click('#functions-table th:nth-child(2)');
      const asc = await calls();
      assert.equal(
        asc,
        [...asc].sort((a, b) => a - b),
      );
      await page.click('#functions-table th:nth-child(2)');
      const desc = await calls();
      assert.equal(
        desc,
        [...asc].sort((a, b) => b - a),
      );
      assert.ok(desc[0]! > desc.at(-1)!, 'the functions do not all have the same number of calls');

      await page.screenshot({ path: join(dir, 'wide.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone-width window`);
      await page.screenshot({ path: join(dir, 'phone.png'), fullPage: true });
      for (const png of ['wide.png', 'phone.png']) {
        const head = readFileSync(join(dir, png)).subarray(0, 8);
        assert.equal([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${png} is a PNG`);
        assert.ok(statSync(join(dir, png)).size > 10_000, `${png} is not empty`);
      }
      // The markup a program chose is shown as text, and nothing of it ran.
      assert.is(await page.$$eval('img, main script', (els) => els.length), 0);
      const written = await page.$$eval('#files-written-table td', (tds) => tds.map((td) => td.textContent ?? ''));
      assert.ok(
        written.some((t) => t.endsWith('/<img src=x onerror=alert(1)>.txt')),
        written.join('\n'),
      );
      assert.ok((await page.textContent('#processes'))?.includes('/bin/true </code><script>alert(2)</script>'));
      assert.equal(dialogs, []);
      assert.equal(problems, []);
      assert.equal(
        requests.filter((u) => !u.startsWith('file://')),
        [],
      );
    } finally {
      await browser.close();
    }
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});

test.run();
