// Throwaway reverse proxies for tests: Debian's apache2 or nginx in the foreground on a random
// loopback port, serving TLS with a given certificate and including a recipe from deploy/ as it
// is, in front of a backend address. Each runs as www-data when we are root, in its own temp dir.
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { onProcessExit, PortClashError, removeDirSync, requireCommand, retryOnPortClash, runAsIds, spawnDaemon, type Daemon } from './system-packages.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const APACHE = '/usr/sbin/apache2';
const APACHE_MODULES = '/usr/lib/apache2/modules';
const NGINX = '/usr/sbin/nginx';
const HTPASSWD = '/usr/bin/htpasswd';
const RUN_AS = 'www-data';

export type ProxyKind = 'apache' | 'nginx';

export interface ReverseProxy {
  kind: ProxyKind;
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The recipe included, e.g. deploy/apache/tessera.conf. */
  recipe: string;
  stop(): Promise<void>;
}

export interface ReverseProxyOptions {
  /** host:port of `tessera serve`. */
  backend: string;
  tls: { certFile: string; keyFile: string };
  /** Username → password of the proxy's own sign-in (written with htpasswd -B). */
  users: Record<string, string>;
}

function apacheConfig(dir: string, port: number, o: ReverseProxyOptions): string {
  const modules = ['mpm_event', 'authz_core', 'authz_host', 'authz_user', 'authn_core', 'authn_file', 'auth_basic', 'headers', 'proxy', 'proxy_http', 'socache_shmcb', 'ssl'];
  return [
    `ServerRoot "${dir}"`,
    ...modules.map((m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`),
    `Listen 127.0.0.1:${port}`,
    `PidFile "${dir}/apache.pid"`,
    `Mutex file:${dir} default`,
    `ErrorLog "${dir}/error.log"`,
    'LogLevel warn',
    'ServerName 127.0.0.1',
    `Define TESSERA_BACKEND ${o.backend}`,
    `SSLSessionCache shmcb:${dir}/ssl_scache(512000)`,
    `<VirtualHost 127.0.0.1:${port}>`,
    '  SSLEngine on',
    `  SSLCertificateFile "${o.tls.certFile}"`,
    `  SSLCertificateKeyFile "${o.tls.keyFile}"`,
    `  Include "${join(REPO, 'deploy/apache/tessera.conf')}"`,
    '</VirtualHost>',
    '',
  ].join('\n');
}

function nginxConfig(dir: string, port: number, o: ReverseProxyOptions): string {
  return [
    'daemon off;',
    'master_process off;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 64; }',
    'http {',
    `  access_log off;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t}_temp;`),
    `  upstream tessera_backend { server ${o.backend}; keepalive 4; }`,
    '  server {',
    `    listen 127.0.0.1:${port} ssl;`,
    '    server_name 127.0.0.1;',
    `    ssl_certificate ${o.tls.certFile};`,
    `    ssl_certificate_key ${o.tls.keyFile};`,
    `    include ${join(REPO, 'deploy/nginx/tessera.conf')};`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Starts apache2 or nginx with the recipe of deploy/; the caller must stop() it. */
export async function startReverseProxy(kind: ProxyKind, options: ReverseProxyOptions): Promise<ReverseProxy> {
  requireCommand(kind === 'apache' ? APACHE : NGINX, kind === 'apache' ? 'apache2' : 'nginx');
  requireCommand(HTPASSWD, 'apache2-utils');
  const dir = mkdtempSync(join(tmpdir(), `tessera-${kind}-`));
  const ids = runAsIds(RUN_AS);
  const unregisterDir = onProcessExit(() => removeDirSync(dir));
  // htpasswd files hold bcrypt hashes (-B), never the passwords.
  const passwd = join(dir, 'tessera.htpasswd');
  writeFileSync(passwd, '');
  for (const [user, password] of Object.entries(options.users)) execFileSync(HTPASSWD, ['-B', '-b', passwd, user, password], { stdio: 'pipe' });
  // The certificate and key must be readable by the proxy's user: copies in its own directory.
  const tls = { certFile: join(dir, 'proxy.pem'), keyFile: join(dir, 'proxy.key') };
  writeFileSync(tls.certFile, readFileSync(options.tls.certFile), { mode: 0o644 });
  writeFileSync(tls.keyFile, readFileSync(options.tls.keyFile), { mode: 0o600 });
  if (ids) for (const file of [dir, passwd, tls.certFile, tls.keyFile]) chownSync(file, ids.uid, ids.gid);
  let daemon: Daemon | undefined;
  const unregisterDaemon = onProcessExit(() => daemon?.terminateSync());
  try {
    const port = await retryOnPortClash(async (candidate) => {
      const config = join(dir, kind === 'apache' ? 'apache2.conf' : 'nginx.conf');
      writeFileSync(config, kind === 'apache' ? apacheConfig(dir, candidate, { ...options, tls }) : nginxConfig(dir, candidate, { ...options, tls }));
      const args = kind === 'apache' ? ['-f', config, '-DFOREGROUND', '-DNO_DETACH'] : ['-p', dir, '-c', config];
      const env = kind === 'apache' ? { ...process.env, APACHE_RUN_USER: RUN_AS, APACHE_RUN_GROUP: RUN_AS } : process.env;
      daemon = spawnDaemon({ command: kind === 'apache' ? APACHE : NGINX, args, cwd: dir, env, ...(ids ? { runAsUser: RUN_AS } : {}), stopSignal: 'SIGTERM', orphanSignal: 'SIGTERM' });
      await waitForPort(candidate, daemon, dir);
      return candidate;
    });
    return {
      kind,
      url: `https://127.0.0.1:${port}`,
      port,
      recipe: `deploy/${kind}/tessera.conf`,
      stop: async () => {
        await daemon?.stop(10_000);
        unregisterDaemon();
        rmSync(dir, { recursive: true, force: true });
        unregisterDir();
      },
    };
  } catch (error) {
    await daemon?.stop(5_000);
    unregisterDaemon();
    removeDirSync(dir);
    unregisterDir();
    throw error;
  }
}

async function waitForPort(port: number, daemon: Daemon, dir: string): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 15_000;
  const log = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  while (Date.now() < deadline) {
    if (daemon.hasExited()) {
      const output = `${daemon.output()}\n${log()}`;
      if (/Address already in use|could not bind/i.test(output)) throw new PortClashError(output);
      throw new Error(`the reverse proxy exited at start:\n${output}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the reverse proxy did not listen on ${port}:\n${daemon.output()}\n${log()}`);
}
