// Throwaway certificates for TLS tests, made with openssl and keytool in a temp directory: a CA, a
// server/peer certificate for localhost and 127.0.0.1, client certificates (client, admin) signed by
// the CA, and a self-signed "rogue" one with the client's name; PKCS12, PEM and JKS stores.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const HAVE_TOOLS = (() => {
  try {
    execFileSync('openssl', ['version']);
    execFileSync('keytool', ['-help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export function makeTestPki(dir: string): void {
  const f = (n: string): string => path.join(dir, n);
  const run = (cmd: string, args: string[]): void => {
    execFileSync(cmd, args, { cwd: dir, stdio: 'ignore' });
  };
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=zk-server test CA']);
  fs.writeFileSync(f('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const leaf = (name: string, subj: string, signer: 'ca' | 'self', ext = false): void => {
    run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    if (signer === 'ca') run('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...(ext ? ['-extfile', 'san.ext'] : [])]);
    else run('openssl', ['x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-out', `${name}.crt`, '-days', '2']);
    run('openssl', ['pkcs12', '-export', '-in', `${name}.crt`, '-inkey', `${name}.key`, '-certfile', 'ca.crt', '-out', `${name}.p12`, '-passout', `pass:${name}pw`]);
  };
  leaf('server', '/CN=localhost', 'ca', true);
  leaf('client', '/CN=client', 'ca');
  leaf('admin', '/CN=admin', 'ca');
  leaf('rogue', '/CN=client', 'self');
  run('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', 'ca.crt', '-keystore', 'trust.p12', '-storetype', 'PKCS12', '-storepass', 'trustpw']);
  fs.writeFileSync(f('server.pem'), fs.readFileSync(f('server.key'), 'utf8') + fs.readFileSync(f('server.crt'), 'utf8'));
  run('keytool', ['-importkeystore', '-srckeystore', 'server.p12', '-srcstoretype', 'PKCS12', '-srcstorepass', 'serverpw', '-destkeystore', 'server.jks', '-deststoretype', 'JKS', '-deststorepass', 'serverpw']);
}

