import type { PersonStatus } from '../../people/person.table.ts';
import type { SourceGroupKind } from '../source-records.ts';

/*
 * COmanage Registry's codes and what they become in Tessera. The codes are COmanage's own:
 * app/Lib/enum.php of Internet2/comanage-registry (v4.6.1): StatusEnum (people, identifiers, roles),
 * SuspendableStatusEnum (groups), GroupEnum (group types).
 */

/**
 * StatusEnum (enum.php) → Tessera's person status. A (Active), GP (GracePeriod), S (Suspended),
 * XP (Expired), LK (Locked), I (Invited), P/PA/PC (Pending, PendingApproval, PendingConfirmation),
 * N (Denied), X (Declined), D2 (Duplicate) have an equal. Others:
 * - D (Deleted): suspended — Tessera never deletes a person because a source says so; their tokens
 *   stop, and come back if COmanage reinstates them;
 * - PV (PendingVetting), Y (Approved), C (Confirmed): pending — petitions under way, not members yet;
 * - anything unknown: suspended (fail closed), so a new COmanage code never grants access.
 */
export const PERSON_STATUS_MAP: Readonly<Record<string, PersonStatus>> = {
  A: 'active',
  GP: 'grace_period',
  S: 'suspended',
  XP: 'expired',
  LK: 'locked',
  I: 'invited',
  P: 'pending',
  PA: 'pending_approval',
  PC: 'pending_confirmation',
  PV: 'pending',
  Y: 'pending',
  C: 'pending',
  N: 'denied',
  X: 'declined',
  D2: 'duplicate',
  D: 'suspended',
};

/** The Tessera status of a COmanage person status code (see PERSON_STATUS_MAP); unknown codes give `suspended`. */
export function mapPersonStatus(code: string | null | undefined): PersonStatus {
  return PERSON_STATUS_MAP[(code ?? '').trim()] ?? 'suspended';
}

/** Role statuses (StatusEnum) that make a role count: Active and GracePeriod. */
export const ACTIVE_ROLE_STATUSES: readonly string[] = ['A', 'GP'];

/**
 * GroupEnum (enum.php) → how Tessera takes a group. The CO's own admins group (A) and members
 * groups (MA ActiveMembers, M AllMembers) map to Tessera's admins and automatic members group —
 * only when they belong to the CO itself (`cou_id` null): a COU's admins or members group is a
 * group of its own, taken as a standard group. Standard (S), Approvers (AP), Clusters (CL) and the
 * nested kinds (AN, MN) are standard groups.
 */
export function mapGroupKind(groupType: string | null | undefined, couId: unknown): SourceGroupKind {
  if (couId !== null && couId !== undefined) return 'standard';
  switch ((groupType ?? '').trim()) {
    case 'A':
      return 'admins';
    case 'MA':
    case 'M':
      return 'members';
    default:
      return 'standard';
  }
}

/** SuspendableStatusEnum (enum.php): A active, S suspended; a group with another status is taken as suspended. */
export function mapGroupStatus(code: string | null | undefined): 'active' | 'suspended' {
  return (code ?? '').trim() === 'A' ? 'active' : 'suspended';
}

/** COmanage booleans arrive as true/false (PostgreSQL) or 1/0 (MySQL/MariaDB tinyint). */
export function bool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

/**
 * A COmanage timestamp as ISO-8601 UTC, or null. COmanage keeps timestamps in UTC in columns
 * without a time zone (`timestamp without time zone`, DATETIME); they are read as text
 * (`YYYY-MM-DD HH:MM:SS[.ffffff]`) so neither driver shifts them by the process's time zone.
 */
export function utc(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  const text = value instanceof Date ? value.toISOString() : String(value);
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?/.exec(text);
  if (!m) return null;
  const ms = (m[3] ?? '.000').slice(0, 4).padEnd(4, '0');
  return `${m[1]}T${m[2]}${ms}Z`;
}
