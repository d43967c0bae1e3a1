/**
 * Proof that a process records: its process-start record in a session's events file. libscope
 * writes it first, from the reporting thread, once it runs and its event destination is open; a
 * process that left none there either never had libscope in it or could not write (tools then say
 * so: "never say ok for nothing recorded").
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** True when `eventsFile` holds a process-start record (`{"format":…,"info":{"process":{"pid":…}}}`) of `pid`. */
export async function hasStartRecord(eventsFile: string, pid: number): Promise<boolean> {
  const lines = createInterface({ input: createReadStream(eventsFile, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line.startsWith('{"format"')) continue;
      try {
        const rec = JSON.parse(line) as { info?: { process?: { pid?: unknown } } };
        if (rec.info?.process?.pid === pid) return true;
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
