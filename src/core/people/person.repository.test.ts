import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId } from '../../db/ids.ts';
import { AppError } from '../errors/app-error.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { deletePersonPart, findPerson, findPersonStatus, insertIdentifier, insertIdentifierType } from './person.repository.ts';

forEachDialect('Person repository', (dialect) => {
  const t = useTestApp(dialect);

  const identifierRow = (coId: string, personId: string, identifier: string) => ({
    id: newId(),
    co_id: coId,
    person_id: personId,
    identifier,
    type: 'uid',
    login: 0,
    status: 'active' as const,
    created_at: t.clock.now().toISOString(),
  });

  it('maps a duplicate identifier to IDENTIFIER_TAKEN on the field it is given, leaving the first row', async () => {
    const co = await buildCo(t);
    const holder = await buildPerson(t, co.id);
    const other = await buildPerson(t, co.id);
    await assert.rejects(
      t.ctx.db.transaction().execute((trx) => insertIdentifier(trx, identifierRow(co.id, other.id, holder.username), 'identifiers.0.identifier')),
      (e: AppError) => e instanceof AppError && e.code === 'IDENTIFIER_TAKEN' && e.status === 409 && e.field === 'identifiers.0.identifier',
    );
    const rows = await t.ctx.db.selectFrom('identifier').select('person_id').where('co_id', '=', co.id).where('identifier', '=', holder.username).execute();
    assert.deepEqual(rows, [{ person_id: holder.id }]);
  });

  it('lets other constraint failures through unmapped', async () => {
    const co = await buildCo(t);
    // No such person: a foreign-key violation, which is a bug in the caller, not a conflict to show.
    await assert.rejects(insertIdentifier(t.ctx.db, identifierRow(co.id, newId(), 'orphan')), (e: unknown) => !(e instanceof AppError));
  });

  it('maps a duplicate identifier type to IDENTIFIER_TYPE_TAKEN on name', async () => {
    const co = await buildCo(t);
    await insertIdentifierType(t.ctx.db, { id: newId(), co_id: co.id, name: 'orcid' });
    await assert.rejects(
      insertIdentifierType(t.ctx.db, { id: newId(), co_id: co.id, name: 'orcid' }),
      (e: AppError) => e instanceof AppError && e.code === 'IDENTIFIER_TYPE_TAKEN' && e.status === 409 && e.field === 'name',
    );
    // Another CO may use the same name.
    await insertIdentifierType(t.ctx.db, { id: newId(), co_id: (await buildCo(t)).id, name: 'orcid' });
  });

  it('never reaches a person or their parts through another CO', async () => {
    const mine = await buildCo(t);
    const theirs = await buildCo(t);
    const person = await buildPerson(t, theirs.id);
    assert.equal(await findPerson(t.ctx.db, mine.id, person.id), undefined);
    assert.equal(await findPersonStatus(t.ctx.db, mine.id, person.id), undefined);
    assert.equal(await findPersonStatus(t.ctx.db, theirs.id, person.id), 'active');
    await deletePersonPart(t.ctx.db, 'identifier', mine.id, person.identifiers[0]!.id);
    assert.equal((await findPerson(t.ctx.db, theirs.id, person.id))!.identifiers.length, 1);
  });
});
