/**
 * A Metric back to the record libscope writes for it: `{"type":"metric","body":{"_metric","_metric_type",
 * "_value",…dimensions…,"_time"}}`. For a StatsD line, which carries no time, a receiver supplies one
 * (scope-collect: when the line arrived), so the record reads like libscope's NDJSON.
 */
import type { Metric } from './metric.js';

/** The metric record as NDJSON text (no newline); `_time` last, as libscope writes it, when known. */
export function metricRecord(metric: Metric, time: number | null = metric.time): string {
  const body: Record<string, unknown> = { _metric: metric.name, _metric_type: metric.type, _value: metric.value };
  for (const [k, v] of Object.entries(metric.dims)) {
    if (!(k in body)) body[k] = v;
  }
  if (time !== null) body['_time'] = time;
  return JSON.stringify({ type: 'metric', body });
}
