// Proves the MariaDB harness: servers start on distinct random ports, keep their databases apart,
// store non-ASCII text intact (COmanage data is full of it), and free their ports when stopped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createConnection } from 'mysql2/promise';
import { createMariadbDatabase, startMariadb, type MariadbInstance } from './mariadb.ts';

async function query(url: string, sql: string, values: unknown[] = []): Promise<unknown[]> {
  const connection = await createConnection(url);
  try {
    const [rows] = await connection.query(sql, values);
    return Array.isArray(rows) ? rows.map((row) => ({ ...row })) : [];
  } finally {
    await connection.end();
  }
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

describe('startMariadb', () => {
  let first: MariadbInstance;
  let second: MariadbInstance;

  before(async () => {
    [first, second] = await Promise.all([startMariadb(), startMariadb()]);
  });
  after(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('starts servers on distinct ports that answer queries', async () => {
    assert.notEqual(first.port, second.port);
    assert.match(first.url, /^mysql:\/\/root@127\.0\.0\.1:\d+\/mysql$/);
    assert.deepEqual(await query(first.url, 'select 1 as one'), [{ one: 1 }]);
    assert.deepEqual(await query(second.url, 'select 1 as one'), [{ one: 1 }]);
  });

  it('creates isolated utf8mb4 databases that keep non-ASCII text', async () => {
    const alpha = await createMariadbDatabase(first.url, 'alpha');
    const beta = await createMariadbDatabase(first.url);
    assert.equal(new URL(alpha).pathname, '/alpha');
    await query(alpha, 'create table names (given varchar(64))');
    await query(alpha, 'insert into names values (?)', ['Zoë Åsa 李']);
    assert.deepEqual(await query(alpha, 'select given from names'), [{ given: 'Zoë Åsa 李' }]);
    await assert.rejects(query(beta, 'select * from names'), /doesn't exist/);
  });

  it('rejects a database name that would need quoting', async () => {
    await assert.rejects(createMariadbDatabase(first.url, 'x`; drop'), /invalid database name/);
  });

  it('closes the port when stopped, and stop() is idempotent', async () => {
    const instance = await startMariadb();
    await instance.stop();
    await instance.stop();
    assert.equal(await portIsOpen(instance.port), false);
  });
});
