// A throwaway certificate authority for tests, made with the `openssl` command: a CA and server
// certificates for chosen names (valid, for the wrong name, or already expired), in a temp dir.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import { onProcessExit, removeDirSync, requireCommand } from './system-packages.ts';

const execFileAsync = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
/** EC keys: made in milliseconds, and spoken by OpenSSL (Node) and GnuTLS (slapd) alike. */
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface TestCa {
  /** The CA certificate (PEM), what an operator pastes as the CA bundle. */
  caPem: string;
  caFile: string;
  /**
   * A server certificate for these names (DNS names or IP addresses in subjectAltName), signed by
   * the CA. `expired`: its validity ended a day before it began, so every check finds it expired.
   */
  issue(name: string, hosts: string[], options?: { expired?: boolean }): Promise<IssuedCertificate>;
  /** Removes the temp dir. Idempotent. */
  remove(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync(OPENSSL, args, { cwd });
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${(error as Error).message}\n${stderr}`);
  }
}

/** Makes a CA (subject `CN=<label>`) valid for two days. */
export async function createTestCa(label = 'Tessera Test CA'): Promise<TestCa> {
  requireCommand(OPENSSL, 'openssl');
  const dir = await mkdtemp(join(tmpdir(), 'tessera-ca-'));
  const unregister = onProcessExit(() => removeDirSync(dir));
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  await openssl(['req', '-x509', ...KEY, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=${label}`], dir);
  const caPem = await readFile(caFile, 'utf8');
  let serial = 1;
  return {
    caPem,
    caFile,
    async issue(name, hosts, options = {}) {
      if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`certificate name ${name}: letters, digits and dashes only`);
      const keyFile = join(dir, `${name}.key`);
      const certFile = join(dir, `${name}.pem`);
      const csr = join(dir, `${name}.csr`);
      const ext = join(dir, `${name}.ext`);
      const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      await writeFile(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
      await openssl(['req', ...KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${hosts[0] ?? name}`], dir);
      // A negative validity makes notAfter precede notBefore (= now): expired from the start.
      const days = options.expired ? '-1' : '1';
      await openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', String(serial++), '-out', certFile, '-days', days, '-extfile', ext], dir);
      return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
      unregister();
    },
  };
}
