/**
 * Proof that a process records: its process-start record in a session's events file. libscope
 * writes it first, from the reporting thread, once it runs and its event destination is open; a
 * process that left none there either never had libscope in it or could not write (tools then say
 * so: "never say ok for nothing recorded").
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** True when `eventsFile` holds a process-start record (`{"format":…,"info":{"process":{"pid":…}}}`) of `pid`. */
export function hasStartRecord(eventsFile: string, pid: number): Promise<boolean> {
  return anyLine(eventsFile, (line) => {
    if (!line.startsWith('{"format"')) return false;
    const rec = JSON.parse(line) as { info?: { process?: { pid?: unknown } } };
    return rec.info?.process?.pid === pid;
  });
}

/**
 * True when `file` (events or metrics, NDJSON or StatsD) holds any record of `pid`: the proof where
 * filters may leave the process-start record out (metrics are never filtered: proc.start is there).
 */
export function hasRecordOf(file: string, pid: number): Promise<boolean> {
  return anyLine(file, (line) => {
    if (!line.startsWith('{')) return new RegExp(`[#,]pid:${pid}(,|$)`).test(line);
    const rec = JSON.parse(line) as { body?: { pid?: unknown }; info?: { process?: { pid?: unknown } } };
    return rec.body?.pid === pid || rec.info?.process?.pid === pid;
  });
}

async function anyLine(file: string, match: (line: string) => boolean): Promise<boolean> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      try {
        if (match(line)) return true;
      } catch {
        // a line still being written
      }
    }
  } catch {
    return false; // no such file: nothing was written
  } finally {
    lines.close();
  }
  return false;
}
