/**
 * The OTLP/HTTP sink: events POSTed to the logs URL (<base>/v1/logs), metrics to the metrics URL
 * (<base>/v1/metrics), as protobuf (application/x-protobuf) or OTLP/JSON (application/json), over http
 * or https (certificates checked, against the system's CAs or the one given), with the configured
 * headers, gzip-compressed when asked (otlp-config.ts). Status handling follows the OTLP/HTTP spec:
 * 2xx delivered; 429, 502, 503 and 504 retryable, honouring Retry-After; other 5xx and connection
 * errors (a certificate that does not check out among them, named by its code) retried with backoff;
 * any other 4xx refused for good (the batch is dropped).
 */
import { Agent, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import type { Metric } from '@scope/core';
import type { OtlpConfig, OtlpSignal } from './otlp-config.js';
import type { SendResult, Sink } from './destination.js';
import type { Item } from './item.js';
import { logsOf, MetricMapper } from './otlp-map.js';
import { logsRequestJson, logsRequestPb, metricsRequestJson, metricsRequestPb } from './otlp-model.js';

export type { OtlpEncoding } from './otlp-config.js';

export interface OtlpOptions {
  config: OtlpConfig;
  serviceName: string | undefined;
}

interface Reply {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

/** Retry-After as ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const nowNanos = () => BigInt(Date.now()) * 1_000_000n;

export class OtlpSink implements Sink {
  readonly url: string;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly tlsAgents = new Map<OtlpSignal, HttpsAgent>();
  private readonly metrics: MetricMapper;
  private wasReached = false;
  private wasTried = false;

  constructor(private readonly o: OtlpOptions) {
    this.url = o.config.label;
    this.metrics = new MetricMapper(o.serviceName);
  }

  accepts(item: Item): boolean {
    return item.kind === 'event' || item.kind === 'metric';
  }

  reached(): boolean {
    return this.wasReached;
  }

  tried(): boolean {
    return this.wasTried;
  }

  private post(signal: 'logs' | 'metrics', body: Uint8Array | string, abort: AbortSignal): Promise<Reply> {
    const target = this.o.config[signal];
    const contentType = target.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    const raw = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const payload = target.compression === 'gzip' ? gzipSync(raw) : raw;
    const tls = target.url.protocol === 'https:';
    let agent: Agent | HttpsAgent = this.agent;
    if (tls) {
      agent = this.tlsAgents.get(target) ?? new HttpsAgent({ keepAlive: true, ...(target.ca ? { ca: target.ca } : {}) });
      this.tlsAgents.set(target, agent as HttpsAgent);
    }
    const headers: Record<string, string | number> = { 'content-type': contentType, 'user-agent': 'scope-export', ...target.headers, 'content-length': payload.length };
    if (target.compression === 'gzip') headers['content-encoding'] = 'gzip';
    return new Promise((resolve, reject) => {
      const options = {
        host: target.url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.url.port === '' ? (tls ? 443 : 80) : Number(target.url.port),
        method: 'POST',
        path: `${target.url.pathname}${target.url.search}`,
        agent,
        signal: abort,
        timeout: target.timeoutMs,
        headers,
      };
      const onReply = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(h) ? h[0] : h, text: Buffer.concat(chunks).toString('utf8') });
        });
      };
      const req = tls ? httpsRequest(options, onReply) : request(options, onReply);
      req.on('timeout', () => req.destroy(new Error(`no answer from ${target.url.host} within ${target.timeoutMs / 1000} s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** One request; how it went for its `items`. */
  private async exchange(signal: 'logs' | 'metrics', body: Uint8Array | string, items: Item[], abort: AbortSignal): Promise<SendResult> {
    let reply: Reply;
    this.wasTried = true;
    try {
      reply = await this.post(signal, body, abort);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { sent: 0, retry: { items, why: `POST ${this.o.config[signal].url.href}: ${e.code ?? e.message}` } };
    }
    this.wasReached = true;
    const s = reply.status;
    if (s >= 200 && s < 300) return { sent: items.length };
    const why = `POST ${this.o.config[signal].url.href}: HTTP ${s}${reply.text.trim() === '' ? '' : ` (${reply.text.trim().slice(0, 200)})`}`;
    if (s === 429 || s >= 500) {
      const afterMs = s === 429 || s === 502 || s === 503 || s === 504 ? retryAfterMs(reply.retryAfter) : undefined;
      return { sent: 0, retry: afterMs === undefined ? { items, why } : { items, why, afterMs } };
    }
    return { sent: 0, refused: { count: items.length, why } };
  }

  async send(items: Item[], abort: AbortSignal): Promise<SendResult> {
    const events = items.filter((i): i is Extract<Item, { kind: 'event' }> => i.kind === 'event');
    const metricItems = items.filter((i): i is Extract<Item, { kind: 'metric' }> => i.kind === 'metric');
    const results: SendResult[] = [];
    const now = nowNanos();
    if (events.length > 0) {
      const resources = logsOf(events, this.o.serviceName, now);
      results.push(await this.exchange('logs', this.o.config.logs.encoding === 'json' ? logsRequestJson(resources) : logsRequestPb(resources), events, abort));
    }
    if (metricItems.length > 0) {
      const resources = this.metrics.map(
        metricItems.map((i): Metric => i.metric),
        now,
      );
      results.push(await this.exchange('metrics', this.o.config.metrics.encoding === 'json' ? metricsRequestJson(resources) : metricsRequestPb(resources), metricItems, abort));
    }
    // Logs and metrics go separately, so one may be delivered while the other waits for a retry.
    const out: SendResult = { sent: 0 };
    for (const r of results) {
      out.sent += r.sent;
      if (r.refused) out.refused = out.refused ? { count: out.refused.count + r.refused.count, why: out.refused.why } : r.refused;
      if (r.retry) {
        out.retry = out.retry ? { items: [...out.retry.items, ...r.retry.items], why: out.retry.why } : r.retry;
        if (r.retry.afterMs !== undefined) out.retry.afterMs = Math.max(out.retry.afterMs ?? 0, r.retry.afterMs);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    for (const a of this.tlsAgents.values()) a.destroy();
  }
}
