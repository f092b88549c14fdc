// JAAS login configuration files, as the JVM's ConfigFile reads them for ZooKeeper:
//
//   Server {
//     org.apache.zookeeper.server.auth.DigestLoginModule required
//     user_super="adminsecret"
//     user_bob="bobsecret";
//   };
//
// Sections of login-module entries (class, flag, name=value options, `;`), comments `//…` and
// `/*…*/`, values quoted ("…" with backslash escapes) or bare. ZooKeeper finds the file through the
// system property java.security.auth.login.config and the section through zookeeper.sasl.serverconfig
// (default Server); the DIGEST-MD5 users are the options named user_<name>.
import * as fs from 'node:fs';

export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

export class JaasError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);

interface Token {
  text: string;
  quoted: boolean;
  line: number;
}

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else if (text.startsWith('//', i) || ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new JaasError(file, line, 'unterminated /* comment');
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 2;
    } else if (ch === '"' || ch === "'") {
      const start = line;
      let s = '';
      i++;
      while (i < text.length && text[i] !== ch) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        if (text[i] === '\n') line++;
        s += text[i++];
      }
      if (i >= text.length) throw new JaasError(file, start, 'unterminated quoted string');
      i++;
      out.push({ text: s, quoted: true, line: start });
    } else if ('{};='.includes(ch)) {
      out.push({ text: ch, quoted: false, line });
      i++;
    } else {
      let s = '';
      while (i < text.length && !/[\s{};="']/.test(text[i]) && !text.startsWith('//', i) && !text.startsWith('/*', i)) s += text[i++];
      out.push({ text: s, quoted: false, line });
    }
  }
  return out;
}

/** Every section of a JAAS file, by name (a later section of the same name adds its entries). */
export function parseJaas(text: string, file = 'jaas.conf'): Map<string, JaasEntry[]> {
  const toks = tokenize(text, file);
  const sections = new Map<string, JaasEntry[]>();
  let p = 0;
  const lastLine = (): number => (toks.length ? toks[toks.length - 1].line : 1);
  const next = (what: string): Token => {
    const t = toks[p++];
    if (!t) throw new JaasError(file, lastLine(), `expected ${what}, found the end of the file`);
    return t;
  };
  const expect = (sym: string): void => {
    const t = next(`'${sym}'`);
    if (t.quoted || t.text !== sym) throw new JaasError(file, t.line, `expected '${sym}', found '${t.text}'`);
  };
  while (p < toks.length) {
    const name = next('a section name');
    if (!name.quoted && '{};='.includes(name.text)) throw new JaasError(file, name.line, `expected a section name, found '${name.text}'`);
    expect('{');
    const entries = sections.get(name.text) ?? [];
    for (;;) {
      const t = next("a login module or '}'");
      if (!t.quoted && t.text === '}') break;
      if (!t.quoted && '{;='.includes(t.text)) throw new JaasError(file, t.line, `expected a login module class, found '${t.text}'`);
      const flag = next('a control flag');
      if (!FLAGS.has(flag.text.toLowerCase())) {
        throw new JaasError(file, flag.line, `expected a control flag (required, requisite, sufficient or optional) after ${t.text}, found '${flag.text}'`);
      }
      const options = new Map<string, string>();
      for (;;) {
        const k = next("an option or ';'");
        if (!k.quoted && k.text === ';') break;
        if (!k.quoted && '{}='.includes(k.text)) throw new JaasError(file, k.line, `expected an option name, found '${k.text}'`);
        expect('=');
        const v = next(`a value for ${k.text}`);
        if (!v.quoted && '{};='.includes(v.text)) throw new JaasError(file, v.line, `expected a value for ${k.text}, found '${v.text}'`);
        options.set(k.text, v.text);
      }
      entries.push({ loginModule: t.text, flag: flag.text.toLowerCase(), options });
    }
    expect(';');
    sections.set(name.text, entries);
  }
  return sections;
}

export function readJaasFile(file: string): Map<string, JaasEntry[]> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new JaasError(file, 0, `cannot read the JAAS configuration: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseJaas(text, file);
}

/** The DIGEST-MD5 users of a section: options user_<name>="<password>" (SaslServerCallbackHandler). */
export function digestUsers(entries: readonly JaasEntry[]): Map<string, string> {
  const users = new Map<string, string>();
  for (const e of entries) {
    for (const [k, v] of e.options) if (k.startsWith('user_')) users.set(k.substring(5), v);
  }
  return users;
}

/** Whether a section logs in with Kerberos (a GSSAPI server), which zk-server does not support. */
export function usesKerberos(entries: readonly JaasEntry[]): boolean {
  return entries.some((e) => /Krb5LoginModule$/.test(e.loginModule));
}
