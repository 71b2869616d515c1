// Persistence of nodes. The in-memory state is the source of truth while the server runs; this
// repo is written through on every change and read once at start-up.

import type { Kysely, Selectable } from 'kysely';
import type { Node, RegisterMethod } from '../domain/node.js';
import type { Database, NodesTable } from './tables.js';
import { fromDate, fromNullableDate, toDate, toId, toNullableDate, toRef, toStringList } from './codec.js';

export type NewNode = Omit<Node, 'id' | 'createdAt' | 'updatedAt'>;

export class NodesRepo {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async list(): Promise<Node[]> {
    const rows = await this.#db.selectFrom('nodes').selectAll().orderBy('id').execute();
    return rows.map(rowToNode);
  }

  async insert(node: NewNode, now = new Date()): Promise<Node> {
    const row = await this.#db
      .insertInto('nodes')
      .values({ ...nodeToRow(node), created_at: fromDate(now), updated_at: fromDate(now) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToNode(row);
  }

  /** Writes every mutable column of the node; returns false when the row is gone. */
  async update(node: Node, now = new Date()): Promise<boolean> {
    const res = await this.#db
      .updateTable('nodes')
      .set({ ...nodeToRow(node), updated_at: fromDate(now) })
      .where('id', '=', node.id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async delete(id: number): Promise<boolean> {
    const res = await this.#db.deleteFrom('nodes').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  async countForUser(userId: number): Promise<number> {
    const row = await this.#db
      .selectFrom('nodes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function nodeToRow(node: NewNode) {
  return {
    machine_key: node.machineKey,
    node_key: node.nodeKey,
    disco_key: node.discoKey,
    endpoints: JSON.stringify(node.endpoints),
    host_info: node.hostinfo ? JSON.stringify(node.hostinfo) : '',
    ipv4: node.ipv4,
    ipv6: node.ipv6,
    hostname: node.hostname,
    given_name: node.givenName,
    user_id: node.userId,
    register_method: node.registerMethod,
    tags: JSON.stringify(node.tags),
    auth_key_id: node.authKeyId,
    last_seen: fromNullableDate(node.lastSeen),
    expiry: fromNullableDate(node.expiry),
    approved_routes: JSON.stringify(node.approvedRoutes),
  };
}

function rowToNode(row: Selectable<NodesTable>): Node {
  return {
    id: toId(row.id),
    machineKey: row.machine_key,
    nodeKey: row.node_key,
    discoKey: row.disco_key,
    endpoints: toStringList(row.endpoints),
    hostinfo: row.host_info ? (JSON.parse(row.host_info) as Record<string, unknown>) : null,
    ipv4: row.ipv4,
    ipv6: row.ipv6,
    hostname: row.hostname,
    givenName: row.given_name,
    userId: toRef(row.user_id),
    registerMethod: (row.register_method || 'authkey') as RegisterMethod,
    tags: toStringList(row.tags),
    authKeyId: toRef(row.auth_key_id),
    lastSeen: toNullableDate(row.last_seen),
    expiry: toNullableDate(row.expiry),
    approvedRoutes: toStringList(row.approved_routes),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}
