// zkCli's output formats: StatPrinter's eleven lines (Java Date strings, Long.toHexString), ACL ids
// as jute prints them, permission letters, Java List.toString, WatchedEvent lines and the usage text.
import { ACL, Stat } from '../jute/records';
import { Perms } from '../data/constants';
import { WatchedEvent } from '../client/zkclient';

/** Long.toHexString: a negative long shows as its 64-bit two's complement. */
export function javaHex(v: number | bigint): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** java.util.Date#toString: "Fri Dec 04 16:28:05 UTC 2026", in the local time zone. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const zone =
    new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone} ${d.getFullYear()}`;
}

export function statLines(s: Stat): string[] {
  return [
    `cZxid = 0x${javaHex(s.czxid)}`,
    `ctime = ${javaDate(s.ctime)}`,
    `mZxid = 0x${javaHex(s.mzxid)}`,
    `mtime = ${javaDate(s.mtime)}`,
    `pZxid = 0x${javaHex(s.pzxid)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `aclVersion = ${s.aversion}`,
    `ephemeralOwner = 0x${javaHex(s.ephemeralOwner)}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ];
}

/** ZKUtil.getPermString: the letters in the order c d r w a. */
export function permString(perms: number): string {
  let p = '';
  if (perms & Perms.CREATE) p += 'c';
  if (perms & Perms.DELETE) p += 'd';
  if (perms & Perms.READ) p += 'r';
  if (perms & Perms.WRITE) p += 'w';
  if (perms & Perms.ADMIN) p += 'a';
  return p;
}

/** An ACL as getAcl prints it: the jute Id record's text form, which ends in a newline, then ": perms". */
export function aclText(a: ACL): string {
  return `'${a.id.scheme},'${a.id.id}\n: ${permString(a.perms)}`;
}

/** java.util.List#toString */
export function javaList(items: readonly (string | number)[]): string {
  return `[${items.join(', ')}]`;
}

export function eventText(e: WatchedEvent): string {
  return `WatchedEvent state:${e.state} type:${e.type} path:${e.path === null ? 'null' : e.path}`;
}
