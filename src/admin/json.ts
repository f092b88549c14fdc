// JSON as ZooKeeper's AdminServer writes it: Jackson's DefaultPrettyPrinter (`"key" : value`,
// 2-space indent per object level, arrays inline as `[ a, b ]`, empty `{ }` / `[ ]`, no final newline),
// Java longs as exact integers (bigint here) and Java doubles with Double.toString (`0.0`, `2.6667`).

/** A value Java holds as a double: printed with a decimal point even when integral (`0.0`). */
export class JavaDouble {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
  toString(): string {
    return javaDoubleString(this.value);
  }
}

export type JsonValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | JavaDouble
  | JsonValue[]
  | Set<JsonValue>
  | { [k: string]: JsonValue };

/** Java's Double.toString for finite values (shortest round-trip digits, as JDK 19+ prints). */
export function javaDoubleString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : s + '.0';
  }
  // computerized scientific notation: d.dddE[-]n
  const [mant, exp] = v.toExponential().split('e');
  const m = mant.includes('.') ? mant : mant + '.0';
  return `${m}E${exp.startsWith('+') ? exp.slice(1) : exp}`;
}

function str(s: string): string {
  return JSON.stringify(s);
}

function scalar(v: JsonValue): string | undefined {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return str(javaDoubleString(v));
    return Number.isInteger(v) ? String(v) : javaDoubleString(v);
  }
  if (typeof v === 'string') return str(v);
  if (v instanceof JavaDouble) {
    return Number.isFinite(v.value) ? javaDoubleString(v.value) : str(javaDoubleString(v.value));
  }
  return undefined;
}

function write(v: JsonValue, level: number): string {
  const s = scalar(v);
  if (s !== undefined) return s;
  if (Array.isArray(v) || v instanceof Set) {
    const items = [...v];
    if (items.length === 0) return '[ ]';
    // Jackson's array indenter is inline and does not deepen the object nesting level
    return '[ ' + items.map((x) => write(x, level)).join(', ') + ' ]';
  }
  const entries = Object.entries(v as Record<string, JsonValue>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{ }';
  const pad = '  '.repeat(level + 1);
  const body = entries.map(([k, x]) => `${pad}${str(k)} : ${write(x, level + 1)}`).join(',\n');
  return `{\n${body}\n${'  '.repeat(level)}}`;
}

/** Serialize like Jackson's `writerWithDefaultPrettyPrinter()`. */
export function toJacksonJson(v: JsonValue): string {
  return write(v, 0);
}
