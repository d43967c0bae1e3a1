/**
 * --tag-peer: name the connection a record came from in `body.collector_peer`, leaving every other
 * byte of the record as it was (no re-serialisation: numbers, key order and escapes stay the sender's).
 */

/**
 * `text` (one JSON object, already known to parse) with `"collector_peer":"<peer>"` as the first key
 * of its top-level `body` object; null when it has no body object (the process-start record, whose
 * schema admits no extra key).
 */
export function tagPeer(text: string, peer: string): string | null {
  const open = bodyOpen(text);
  if (open < 0) return null;
  let next = open + 1;
  while (next < text.length && /\s/.test(text[next] as string)) next++;
  const empty = text[next] === '}';
  const field = `"collector_peer":${JSON.stringify(peer)}`;
  return `${text.slice(0, open + 1)}${field}${empty ? '' : ','}${text.slice(open + 1)}`;
}

/** Index of the `{` that opens the top-level "body" value, or -1. */
function bodyOpen(text: string): number {
  let depth = 0;
  let i = 0;
  // At depth 1 a string in key position is followed by ':'; remember the last key read there.
  let key: string | null = null;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      const end = stringEnd(text, i);
      if (depth === 1) key = text.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      if (depth === 1 && c === '{' && key !== null && JSON.parse(key) === 'body') return i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      key = null;
    }
    i++;
  }
  return -1;
}

/** Index of the closing quote of the string that starts at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i;
    else i++;
  }
  return text.length - 1;
}
