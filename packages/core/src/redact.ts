/**
 * Secrets kept out of what scope writes: environment values with a secret-looking name
 * (scope-snapshot) and credentials given on a command line (`cmd` in every record, `args.json`).
 *
 * This file is the one description of the rules. libscope has a C copy of them for the `cmd` it
 * writes (libscope/src/report/redact.c); test/redact.test.ts runs both over the same argv samples
 * and requires the same result, so change both together.
 *
 * A name is secret-looking when it contains, in any case, one of SECRET_WORDS. In a command line,
 * each argument in turn:
 *
 * 1. after a bare secret long option (`--password`, `--api-key`), the next argument, unless it
 *    starts with `-`, is its value: `[REDACTED]`;
 * 2. `NAME=VALUE`, `-NAME=VALUE` or `--NAME=VALUE` with a secret-looking NAME (letters, digits,
 *    `_ . -`): `NAME=[REDACTED]` (`--password=…`, `token=…`, `DB_PASS=…`);
 * 3. a header, `Name: value` with a secret-looking Name (curl -H 'Authorization: Bearer …',
 *    `Cookie: …`, `X-Api-Key: …`): `Name: [REDACTED]`;
 * 4. otherwise, anywhere in it: the password of a URL's user info (`scheme://user:pass@host` →
 *    `scheme://user:[REDACTED]@host`), and, after a `?`, each query parameter with a secret-looking
 *    name (`?token=…&x=1` → `?token=[REDACTED]&x=1`; the value ends at `&`, `#` or a space).
 */

/** The words that make a name secret-looking (case-insensitive substrings). */
export const SECRET_WORDS: readonly string[] = ['pass', 'secret', 'token', 'key', 'credential', 'auth', 'cookie', 'session'];

/** A secret-looking name: one of SECRET_WORDS in it, in any case. */
export const SECRET_NAME = new RegExp(`(${SECRET_WORDS.join('|')})`, 'i');

export const REDACTED = '[REDACTED]';

const nameChar = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_.-]$/.test(c);
const secret = (name: string): boolean => SECRET_NAME.test(name);

/** Rule 4: URL user info and secret query parameters anywhere in one argument. */
function scan(a: string): string {
  let out = '';
  let query = false;
  let k = 0;
  const n = a.length;
  while (k < n) {
    if (a.startsWith('://', k)) {
      out += '://';
      k += 3;
      let e = k;
      let colon = -1;
      while (e < n && !'/?#@'.includes(a[e] as string)) {
        if (a[e] === ':' && colon < 0) colon = e;
        e++;
      }
      if (e < n && a[e] === '@' && colon >= 0) {
        out += a.slice(k, colon) + ':' + REDACTED + '@';
        k = e + 1;
      }
      continue;
    }
    const c = a[k] as string;
    if (c === '?' || (c === '&' && query)) {
      query = true;
      out += c;
      const s = ++k;
      while (k < n && nameChar(a[k])) k++;
      const name = a.slice(s, k);
      out += name;
      if (k < n && a[k] === '=' && k > s && secret(name)) {
        out += '=' + REDACTED;
        for (k++; k < n && a[k] !== '&' && a[k] !== '#' && a[k] !== ' '; k++);
      }
      continue;
    }
    out += c;
    k++;
  }
  return out;
}

/** SCOPE_REDACT_ARGS's value: on unless plainly turned off (false, 0, no, off), as libscope reads it. */
export const redactArgsOn = (value: string | undefined): boolean => value === undefined || !/^(false|0|no|off)$/i.test(value);

/** argv with the credentials it carries replaced by `[REDACTED]` (the rules above). */
export function redactArgs(argv: readonly string[]): string[] {
  let pending = false;
  return argv.map((a) => {
    if (pending && !a.startsWith('-')) {
      pending = false;
      return REDACTED;
    }
    pending = false;
    let i = 0;
    while (i < a.length && i < 2 && a[i] === '-') i++;
    let j = i;
    while (j < a.length && nameChar(a[j])) j++;
    if (j > i && a[j] === '=' && secret(a.slice(i, j))) return a.slice(0, j) + '=' + REDACTED;
    if (i === 2 && j === a.length && j > i && secret(a.slice(i))) {
      pending = true;
      return a;
    }
    if (i === 0 && j > 0 && a[j] === ':' && a[j + 1] !== '/' && secret(a.slice(0, j))) return a.slice(0, j) + ': ' + REDACTED;
    return scan(a);
  });
}
