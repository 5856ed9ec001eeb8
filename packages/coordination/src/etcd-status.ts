/**
 * The etcd members and their health, for `cluster status`, the console and
 * /metrics (issue 18 item 6): the member list from any member, then each
 * member's own status, asked of it directly (the client's pool would answer
 * from whichever member it picks). A member that does not answer is shown
 * unhealthy, not an error: that is what the status is for.
 */
import assert from "node:assert/strict";
import type { Etcd3 } from "etcd3";
import { etcdLibrary } from "./etcd-library.js";
import type { CoordinationMember, CoordinationStatus } from "./coordination.js";
import { asCoordinationError, etcdCallTimeoutMs, etcdDialTimeoutMs } from "./etcd-errors.js";

/** etcd recommends at most 7 members; a longer list is not a cluster we set up, and each costs a call. */
export const etcdMembersMax = 9;

export async function etcdStatus(client: Etcd3): Promise<CoordinationStatus> {
  const list = await client.cluster.memberList({ linearizable: false }).catch((error: unknown) => {
    throw asCoordinationError("status", error);
  });
  assert.ok(list.members.length <= etcdMembersMax, `etcd lists ${list.members.length} members, more than ${etcdMembersMax}`);
  const answers = await Promise.all(list.members.map(async (member) => {
    const endpoint = member.clientURLs[0] ?? "";
    return { member, endpoint, leaderId: endpoint === "" ? undefined : await memberLeaderId(endpoint) };
  }));
  // Every healthy member names the same leader, except during an election.
  const leaderId = answers.find((answer) => answer.leaderId !== undefined && answer.leaderId !== "0")?.leaderId;
  const members: CoordinationMember[] = answers.map(({ member, endpoint, leaderId: named }) => ({
    name: member.name,
    endpoint,
    healthy: named !== undefined,
    leader: member.ID === leaderId,
  }));
  return { backend: "etcd", members };
}

/** The leader id `endpoint` reports, or undefined when it does not answer in time. */
async function memberLeaderId(endpoint: string): Promise<string | undefined> {
  const single = new (etcdLibrary().Etcd3)({
    hosts: endpoint,
    dialTimeout: etcdDialTimeoutMs,
    defaultCallOptions: () => ({ deadline: Date.now() + etcdCallTimeoutMs }),
  });
  try {
    return (await single.maintenance.status()).leader;
  } catch (error) {
    const mapped = asCoordinationError("status", error);
    if (mapped.code !== "UNAVAILABLE") throw mapped;
    return undefined;
  } finally {
    single.close();
  }
}
