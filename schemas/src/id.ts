// The one rule a JSON Schema cannot state: a record's id is derived from its host, proc and cmd.

const ID_CMD_TAIL = 32;

/** `<host>-<proc>-<last 32 characters of cmd>`, the id of every event and process-start record. */
export function expectedRecordId(host: string, proc: string, cmd: string): string {
  return `${host}-${proc}-${Array.from(cmd).slice(-ID_CMD_TAIL).join('')}`;
}

/**
 * Whether `id` follows the rule. libscope cuts the command line by bytes; for non-ASCII commands that
 * differs from cutting by characters, so either reading is accepted.
 */
export function idMatches(id: string, host: string, proc: string, cmd: string): boolean {
  if (id === expectedRecordId(host, proc, cmd)) return true;
  const bytes = new TextEncoder().encode(cmd);
  const tail = new TextDecoder().decode(bytes.subarray(Math.max(0, bytes.length - ID_CMD_TAIL)));
  return id === `${host}-${proc}-${tail}`;
}
