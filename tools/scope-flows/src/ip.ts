/**
 * IP addresses as bytes: parsing (IPv4 dotted, IPv6 with `::` and an IPv4 tail), CIDR matching for
 * --peer, and an address order for --sort peer. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are taken
 * as the IPv4 address they carry, so `--peer 127.0.0.0/8` matches a dual-stack socket's peer too.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

function v4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map((part) => Number(part)));
}

/** Parse an address; null when it is not one. A zone (`fe80::1%eth0`) is ignored. */
export function parseIp(text: string): IpAddress | null {
  const bare = text.replace(/%.*$/, '');
  if (isIPv4(bare)) return { family: 4, bytes: v4Bytes(bare) };
  if (!isIPv6(bare)) return null;
  let head = bare;
  let tail: number[] = [];
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    const b = v4Bytes(head.slice(lastColon + 1));
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    head = head.slice(0, lastColon + 1) + '0';
    // drop the placeholder group again below
  }
  const groupsOf = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  let groups: number[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = groupsOf(head.slice(0, gap));
    const right = groupsOf(head.slice(gap + 2));
    if (tail.length > 0) right.pop();
    const fill = 8 - tail.length - left.length - right.length;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right, ...tail];
  } else {
    groups = groupsOf(head);
    if (tail.length > 0) groups.pop();
    groups.push(...tail);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  // ::ffff:a.b.c.d is an IPv4 peer seen through an IPv6 socket.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { family: 4, bytes: bytes.slice(12) };
  }
  return { family: 6, bytes };
}

/** A network: the address and how many leading bits must match. */
export interface Cidr {
  text: string;
  net: IpAddress;
  prefix: number;
}

/** Parse `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128); null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  // An IPv4-mapped network given in IPv6 form keeps its meaning only as IPv6 text; take it as written.
  const net = parseIp(addrText);
  if (!net) return null;
  const written6 = addrText.includes(':');
  const max = written6 ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  if (written6 && net.family === 4) {
    // ::ffff:10.0.0.0/104 → 10.0.0.0/8; a shorter prefix covers more than IPv4 space: keep it IPv6.
    if (prefix >= 96) return { text, net, prefix: prefix - 96 };
    const bytes = new Uint8Array(16);
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    bytes.set(net.bytes, 12);
    return { text, net: { family: 6, bytes }, prefix };
  }
  return { text, net, prefix };
}

/** True when `addr` lies in `cidr`. */
export function inCidr(addr: IpAddress, cidr: Cidr): boolean {
  if (addr.family !== cidr.net.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr.bytes[i] ?? 0) & mask) !== ((cidr.net.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Order: IPv4 before IPv6, then byte by byte. */
export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  for (let i = 0; i < a.bytes.length; i++) {
    const d = (a.bytes[i] ?? 0) - (b.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
