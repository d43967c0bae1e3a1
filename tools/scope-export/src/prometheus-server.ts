/**
 * `--prometheus host:port`: GET /metrics serves the metrics aggregated so far (core's
 * PrometheusWriter, the same text `scope metrics --format prometheus` writes), as a scrape taken at
 * any moment while the input still flows; any other path is 404.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostPort, PrometheusWriter, ScopeError } from '@scope/core';
import type { Metric, PrometheusOptions } from '@scope/core';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class PrometheusEndpoint {
  private readonly writer: PrometheusWriter;
  private readonly server: Server;
  metrics = 0;
  scrapes = 0;

  constructor(warn: (message: string) => void, options: PrometheusOptions = {}) {
    this.writer = new PrometheusWriter(warn, options);
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not found: scope-export serves GET /metrics\n');
        return;
      }
      this.scrapes++;
      const lines = this.writer.lines();
      const text = lines.length === 0 ? '' : lines.join('\n') + '\n';
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    });
  }

  add(m: Metric): void {
    this.metrics++;
    this.writer.add(m);
  }

  /** Listen; resolves with the URL it serves (the real port when 0 was asked for). */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) => reject(new ScopeError(`--prometheus: cannot listen on ${hostPort(host, port)}: ${err.code ?? err.message}`)));
      this.server.listen(port, host, () => {
        const a = this.server.address() as AddressInfo;
        resolve(`http://${hostPort(host, a.port)}/metrics`);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
