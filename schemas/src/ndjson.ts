// Validation of whole NDJSON streams, so a test can prove every record it produced is valid.
import { readFile } from 'node:fs/promises';
import type { RecordKind } from './kinds.js';
import { validateRecord } from './validate.js';

/** One line that is not a valid record. */
export interface NdjsonFailure {
  /** 1-based line number. */
  line: number;
  /** The line, cut to 200 characters. */
  text: string;
  kind: RecordKind | null;
  errors: string[];
}

/** What validating a stream found. */
export interface NdjsonReport {
  /** Lines read, valid or not. */
  lines: number;
  /** Valid records of each kind seen. */
  counts: Partial<Record<RecordKind, number>>;
  failures: NdjsonFailure[];
}

const TEXT_MAX = 200;

/**
 * Validate every line of NDJSON text. Each line must be one valid record: blank lines, lines that are
 * not JSON and a last line without its newline (scope writes whole lines only) are failures too.
 */
export function validateNdjson(text: string): NdjsonReport {
  const report: NdjsonReport = { lines: 0, counts: {}, failures: [] };
  if (text === '') return report;
  const lines = text.split('\n');
  const terminated = lines[lines.length - 1] === '';
  if (terminated) lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    report.lines = line;
    const fail = (kind: RecordKind | null, errors: string[]) => report.failures.push({ line, text: raw.length > TEXT_MAX ? `${raw.slice(0, TEXT_MAX)}…` : raw, kind, errors });
    if (raw.trim() === '') return fail(null, ['blank line']);
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (err) {
      return fail(null, [`not JSON: ${(err as Error).message}`]);
    }
    const result = validateRecord(record);
    if (!result.ok) return fail(result.kind, result.errors);
    if (!terminated && index === lines.length - 1) return fail(result.kind, ['last line has no terminating newline']);
    report.counts[result.kind] = (report.counts[result.kind] ?? 0) + 1;
  });
  return report;
}

/** Validate every line of an NDJSON file (e.g. a session's events.json or metrics.json). */
export async function validateNdjsonFile(path: string): Promise<NdjsonReport> {
  return validateNdjson(await readFile(path, 'utf8'));
}

/** Failures as compiler-style lines, `<name>:<line>: <kind>: <error>`, for an assertion message. */
export function formatFailures(report: NdjsonReport, name = 'stdin'): string {
  return report.failures.flatMap((f) => f.errors.map((e) => `${name}:${f.line}: ${f.kind ?? 'unknown'}: ${e}\n  ${f.text}`)).join('\n');
}
