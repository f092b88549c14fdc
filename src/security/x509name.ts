// The subject of an X.509 certificate as Java's X500Principal.getName() prints it (RFC 2253): the
// id the x509 auth scheme gives a TLS client (X509AuthenticationProvider.getClientId), e.g.
// `CN=client,OU=Test,O=Example` — relative names from the most specific (the reverse of the DER
// order), multi-valued ones joined by '+', the RFC 2253 keywords, any other attribute as its OID
// with the DER value in hex (`1.2.840.113549.1.9.1=#16…`).

interface Tlv {
  tag: number;
  start: number;
  /** offset of the contents */
  body: number;
  end: number;
}

function tlv(b: Buffer, at: number): Tlv {
  if (at + 2 > b.length) throw new Error('truncated DER');
  const tag = b[at];
  let len = b[at + 1];
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > b.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[body + i];
    body += n;
  }
  const end = body + len;
  if (end > b.length) throw new Error('truncated DER');
  return { tag, start: at, body, end };
}

function children(b: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = t.body; at < t.end; ) {
    const c = tlv(b, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

function oidString(b: Buffer, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.body; i < t.end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The keywords of RFC 2253 section 2.3 (the ones X500Principal.RFC2253 prints by name). */
const KEYWORDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/** String types: UTF8String, PrintableString, TeletexString, IA5String, UniversalString, BMPString. */
function decodeString(b: Buffer, t: Tlv): string | undefined {
  const raw = b.subarray(t.body, t.end);
  switch (t.tag) {
    case 0x0c:
      return raw.toString('utf8');
    case 0x13:
    case 0x16:
    case 0x14:
      return raw.toString('latin1');
    case 0x1e: {
      let s = '';
      for (let i = 0; i + 1 < raw.length; i += 2) s += String.fromCharCode(raw.readUInt16BE(i));
      return s;
    }
    case 0x1c: {
      let s = '';
      for (let i = 0; i + 3 < raw.length; i += 4) s += String.fromCodePoint(raw.readUInt32BE(i));
      return s;
    }
    default:
      return undefined;
  }
}

/** RFC 2253 section 2.4 escaping, as Java applies it. */
function escape(v: string): string {
  let s = v.replace(/([,+"\\<>;])/g, '\\$1');
  if (s.startsWith('#') || s.startsWith(' ')) s = '\\' + s;
  if (s.endsWith(' ') && s.length > 1 && !s.endsWith('\\ ')) s = s.slice(0, -1) + '\\ ';
  return s;
}

/** RFC 2253 text of a DER Name (an RDNSequence). */
export function rfc2253Name(b: Buffer, name: Tlv): string {
  const rdns = children(b, name).map((set) =>
    children(b, set)
      .map((atv) => {
        const [oidT, valT] = children(b, atv);
        const oid = oidString(b, oidT);
        const kw = KEYWORDS[oid];
        const str = decodeString(b, valT);
        if (kw && str !== undefined) return `${kw}=${escape(str)}`;
        return `${kw ?? oid}=#${b.subarray(valT.start, valT.end).toString('hex')}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(',');
}

/** The subject of a DER certificate in RFC 2253 form (X500Principal.getName()). */
export function certSubjectRfc2253(der: Buffer): string {
  const cert = tlv(der, 0);
  const tbs = children(der, cert)[0];
  const f = children(der, tbs);
  // [0] version is optional: serial, signature, issuer, validity, subject follow it
  const i = f[0].tag === 0xa0 ? 1 : 0;
  return rfc2253Name(der, f[i + 4]);
}
