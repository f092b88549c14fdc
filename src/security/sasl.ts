// SASL on the client port (ServerCnxnFactory.configureSaslLogin, SaslServerCallbackHandler,
// ZooKeeperServer.processSasl): the JAAS file's Server section names the DIGEST-MD5 users; each
// connection gets its own DIGEST-MD5 exchange; a client that completes it gets the id
// `sasl:<name>` (and `super` when the name is a zookeeper.superUser).
import { DigestMd5Server } from './digestmd5';
import { JaasEntry, JaasError, digestUsers, readJaasFile, usesKerberos } from './jaas';

export interface SaslSettings {
  jaasConfigFile?: string;
  saslServerSection: string;
  saslSuperUsers: string[];
  saslSuperPassword?: string;
  kerberosRemoveHost: boolean;
  kerberosRemoveRealm: boolean;
}

/** Why the server cannot start with this SASL configuration: the JAAS file, its line (0: none) and what is wrong. */
export class SaslConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${detail}`);
  }
}

const KERBEROS_NAME = /^([^/@]*)(\/([^/@]*))?@([^/@]*)$/;

/**
 * The id a DIGEST-MD5 user gets (SaslServerCallbackHandler.handleAuthorizeCallback): a plain name
 * is itself; a Kerberos-form name `user[/host]@REALM` keeps host and realm unless the
 * kerberos.remove* keys drop them — where ZooKeeper's default auth_to_local rule applies, which
 * with no krb5.conf (there is no KDC here) means only an empty realm; otherwise the name is kept
 * whole. Undefined when the name is malformed (an '@' outside the pattern): ZooKeeper's callback
 * throws there and the login fails.
 */
export function saslAuthorizedId(name: string, authzid: string, s: Pick<SaslSettings, 'kerberosRemoveHost' | 'kerberosRemoveRealm'>): string | undefined {
  const m = KERBEROS_NAME.exec(name);
  if (!m) return name.includes('@') ? undefined : name;
  const [, service, , host, realm] = m;
  // DEFAULT rule: the realm must be the default realm, '' without a krb5.conf
  if (realm !== '') return authzid;
  let id = service;
  if (!s.kerberosRemoveHost && host !== undefined) id += `/${host}`;
  if (!s.kerberosRemoveRealm) id += `@${realm}`;
  return id;
}

export class SaslServerSetup {
  /** undefined: no JAAS file or no such section; sasl requests are answered with an empty token (as 3.8 does) */
  readonly users: Map<string, string> | undefined;
  readonly file: string | undefined;

  constructor(readonly settings: SaslSettings) {
    this.file = settings.jaasConfigFile;
    if (!this.file) {
      this.users = undefined;
      return;
    }
    let sections: Map<string, JaasEntry[]>;
    try {
      sections = readJaasFile(this.file);
    } catch (e) {
      if (e instanceof JaasError) throw new SaslConfigError(e.file, e.line, e.message.substring(e.message.indexOf(': ') + 2));
      throw e;
    }
    const section = sections.get(settings.saslServerSection);
    if (!section) {
      // ServerCnxnFactory.configureSaslLogin: a readable file without the section means no SASL
      // for clients (the file may be there for the quorum's sections only)
      this.users = undefined;
      return;
    }
    if (usesKerberos(section) && digestUsers(section).size === 0) {
      throw new SaslConfigError(
        this.file,
        0,
        `section '${settings.saslServerSection}' logs in with Kerberos (Krb5LoginModule): zk-server supports SASL DIGEST-MD5 only (DigestLoginModule with user_<name>="<password>" options); see docs/unsupported.md`,
      );
    }
    this.users = digestUsers(section);
  }

  get enabled(): boolean {
    return this.users !== undefined;
  }

  /** A DIGEST-MD5 exchange for one connection, or null when SASL is not configured. */
  newServer(): DigestMd5Server | null {
    const users = this.users;
    if (!users) return null;
    return new DigestMd5Server({
      password: (user) => {
        if (user === 'super' && this.settings.saslSuperPassword !== undefined) return this.settings.saslSuperPassword;
        return users.get(user);
      },
    });
  }

  isSuperUser(id: string): boolean {
    return id !== '' && this.settings.saslSuperUsers.includes(id);
  }
}

const setups = new WeakMap<object, SaslServerSetup>();

/** The SASL setup of a loaded configuration, made once (the JAAS file is read at start-up). */
export function saslSetupFor(config: SaslSettings): SaslServerSetup {
  let s = setups.get(config);
  if (!s) {
    s = new SaslServerSetup(config);
    setups.set(config, s);
  }
  return s;
}
