/**
 * Command-line arguments as the bytes they are. Linux arguments are any bytes but NUL; a JSON string
 * holds only Unicode text. args.json and session.json write each argument as a string when its bytes
 * are valid UTF-8, else as `{"base64":"…"}` (its bytes, base64): lossless, and plain text in the usual
 * case. Text for people (`argText`) shows the bytes that are not UTF-8 as `\xNN`.
 */

/** One argument in args.json / session.json. */
export type SessionArg = string | { base64: string };

const strict = new TextDecoder('utf-8', { fatal: true });

/** The bytes' text when they are valid UTF-8, else null. */
function utf8(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/** An argument as args.json records it. */
export function encodeArg(arg: string | Uint8Array): SessionArg {
  if (typeof arg === 'string') return arg;
  return utf8(arg) ?? { base64: Buffer.from(arg).toString('base64') };
}

/** The exact bytes of a recorded argument. */
export function argBytes(arg: SessionArg): Buffer {
  return typeof arg === 'string' ? Buffer.from(arg, 'utf8') : Buffer.from(arg.base64, 'base64');
}

/** True for a value args.json may hold. */
export function isSessionArg(v: unknown): v is SessionArg {
  return typeof v === 'string' || (typeof v === 'object' && v !== null && typeof (v as { base64?: unknown }).base64 === 'string');
}

/** An argument as text for people: bytes that are not UTF-8 written `\xNN`, the rest as is. */
export function argText(arg: SessionArg | Uint8Array): string {
  if (typeof arg === 'string') return arg;
  const bytes = arg instanceof Uint8Array ? arg : argBytes(arg);
  const whole = utf8(bytes);
  if (whole !== null) return whole;
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    // the longest valid UTF-8 sequence (1 to 4 bytes) starting here, else one byte escaped
    let taken = 0;
    for (let n = 1; n <= 4 && i + n <= bytes.length && taken === 0; n++) {
      const text = utf8(bytes.subarray(i, i + n));
      if (text !== null) {
        out += text;
        taken = n;
      }
    }
    if (taken === 0) {
      out += `\\x${(bytes[i] as number).toString(16).padStart(2, '0')}`;
      taken = 1;
    }
    i += taken;
  }
  return out;
}
