/**
 * Authentication and authorization of the control service (DESIGN.md
 * "Security": mTLS on every gRPC call, each method checks the caller's role
 * before its handler runs; registration keys never appear in replies).
 * Every method of switchyard.v1.Apparatus, taken from the service
 * definition so that a method added later is covered too, is called as a
 * caller without a certificate, with a certificate of a CA nobody trusts,
 * and as each role that is not the controller's (operator, viewer,
 * device); each must be refused before anything changes. Another apparatus
 * has the right role, but the epoch is the controller's: whatever acts
 * under it must come from the certificate it was granted to.
 */
import * as grpc from "@grpc/grpc-js";
import { NBD_OPT_LIST } from "@switchyard/nbd";
import { loadGrpc } from "@switchyard/proto";
import type { Identity } from "@switchyard/security";
import { suiteIdentities } from "../certificates.js";
import { expectThat, settlesWithin, statusName, track } from "../check.js";
import type { CaseContext } from "../context.js";
import { callMethod, type CallOutcome } from "../grpc-call.js";
import { baselineTable, moveDiff, stamp } from "../layout.js";
import { callTimeoutMs } from "../suite-controller.js";
import { unheldBoundMs, type ConformanceCase } from "./case.js";
import { greeted, optionReplies } from "./nbd-peer.js";

type MethodDefinition = grpc.MethodDefinition<object, unknown>;

/** The callers of another role than the controller's (apparatus-authorization.ts: the change protocol is for apparatuses). */
const wrongRoles: readonly Identity[] = [suiteIdentities.host, suiteIdentities.viewer, suiteIdentities.device];

function apparatusMethods(): [string, MethodDefinition][] {
  return Object.entries(loadGrpc().switchyard.v1.Apparatus.service) as [string, MethodDefinition][];
}

/** A request each method would act on if it let the caller in: the current epoch, the current table, a fresh change. */
function requestFor(context: CaseContext, method: string): object {
  const epoch = context.controller.epoch;
  const changeId = context.changeId("intruder");
  const hold = {
    change_id: changeId, epoch, base_generation: context.generation, mode: "HOLD_MODE_ALL",
    ranges: [{ volume: context.layout.volumeA.name, offset_bytes: context.offsetIn(1), length_bytes: context.layout.extentSizeBytes }],
  };
  switch (method) {
    case "LoadTable":
      return { epoch, table: baselineTable(context.layout, context.generation) };
    case "Hold":
      return hold;
    case "Apply":
      return { change_id: changeId, epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) };
    case "Release":
    case "Abort":
      return { change_id: changeId, epoch };
    case "Register":
      return { epoch, registration_key: "conformance-intruder-key", lease_ms: 1_000, device_address: context.controller.deviceAddress };
    case "Control":
      return { sequence: 1, hold };
    default:
      return {};
  }
}

async function callAs(context: CaseContext, credentials: grpc.ChannelCredentials, method: string, definition: MethodDefinition): Promise<CallOutcome> {
  return callMethod(context.controller.apparatusAddress, credentials, definition, requestFor(context, method), callTimeoutMs);
}

function outcomeText(outcome: CallOutcome): string {
  return `${statusName(outcome.code)}${outcome.details === "" ? "" : ` (${outcome.details})`}`;
}

/**
 * A caller the TLS handshake turns away never reaches gRPC's status layer:
 * it sees UNAVAILABLE. So UNAVAILABLE counts as a refusal only while the
 * controller's own call to the same address is answered at once.
 */
async function expectUnauthenticated(context: CaseContext, credentials: grpc.ChannelCredentials, who: string): Promise<void> {
  for (const [method, definition] of apparatusMethods()) {
    const outcome = await callAs(context, credentials, method, definition);
    const refused = outcome.code === grpc.status.UNAUTHENTICATED || outcome.code === grpc.status.UNAVAILABLE;
    expectThat(refused, `${method} from ${who}: expected UNAUTHENTICATED (or a refused TLS handshake), got ${outcomeText(outcome)}`);
    if (outcome.code === grpc.status.UNAVAILABLE) await context.controller.getState();
  }
}

async function noCertificateCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  await expectUnauthenticated(context, grpc.credentials.createSsl(certificates.clusterCa()), "a TLS caller without a client certificate");
  await expectUnauthenticated(context, grpc.credentials.createInsecure(), "a caller without TLS");
}

async function foreignCaCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  await expectUnauthenticated(context, certificates.foreignChannel(), "a caller whose apparatus certificate another CA signed");
}

async function wrongRoleCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  for (const identity of wrongRoles) {
    const credentials = certificates.channel(identity);
    for (const [method, definition] of apparatusMethods()) {
      const outcome = await callAs(context, credentials, method, definition);
      expectThat(outcome.code === grpc.status.PERMISSION_DENIED, `${method} from ${identity.role} ${identity.id}: expected PERMISSION_DENIED, got ${outcomeText(outcome)}`);
    }
  }
}

/** The failure a Control stream's first answer carries, if any. */
function controlFailure(outcome: CallOutcome): { readonly code: number; readonly details: string } | undefined {
  const reply = outcome.response;
  if (typeof reply !== "object" || reply === null || !("failure" in reply)) return undefined;
  const failure = reply.failure;
  if (typeof failure !== "object" || failure === null || !("code" in failure) || typeof failure.code !== "number") return undefined;
  return { code: failure.code, details: "details" in failure && typeof failure.details === "string" ? failure.details : "" };
}

/** The methods that act under an epoch: all but GetState. */
function underEpochMethods(): [string, MethodDefinition][] {
  return apparatusMethods().filter(([method]) => method !== "GetState");
}

async function notHolderCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  const peer = suiteIdentities.peer;
  const credentials = certificates.channel(peer);
  const before = await context.controller.getState();
  for (const [method, definition] of underEpochMethods()) {
    const outcome = await callAs(context, credentials, method, definition);
    // A Control stream is accepted; the refusal is its one answer's failure.
    const code = method === "Control" ? controlFailure(outcome)?.code : outcome.code;
    expectThat(code === grpc.status.PERMISSION_DENIED,
      `${method} under the controller's epoch ${context.controller.epoch} from apparatus ${peer.id}: expected PERMISSION_DENIED, got ${method === "Control" ? JSON.stringify(controlFailure(outcome) ?? outcome.response) : outcomeText(outcome)}`);
  }
  const after = await context.controller.getState();
  expectThat(after.holds.length === 0 && after.pending_change_id === "" && after.generation === before.generation,
    `after refused calls from ${peer.id} GetState shows ${after.holds.length} holds, pending ${JSON.stringify(after.pending_change_id)}, generation ${after.generation} (was ${before.generation})`);
}

async function keyNotDisclosedCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  const key = context.controller.registrationKey;
  expectThat(key !== "", "precondition: the suite registered the apparatus under a key");
  for (const identity of wrongRoles) {
    for (const [method, definition] of apparatusMethods()) {
      const outcome = await callAs(context, certificates.channel(identity), method, definition);
      const seen = `${outcome.details} ${JSON.stringify(outcome.response ?? null)}`;
      expectThat(!seen.includes(key), `${method} answered ${identity.role} ${identity.id} with the registration key: keys never appear in replies a role must not see`);
    }
  }
  // Not even to the controller: GetState names the registration by its digest only.
  const state = JSON.stringify(await context.controller.getState());
  expectThat(!state.includes(key), "GetState answered the controller with the registration key itself: a reply carries at most its digest");
  // Hosts see export names and descriptions: those carry no key either.
  const peer = await greeted(context);
  try {
    peer.sendOption(NBD_OPT_LIST);
    const listed = await optionReplies(peer, NBD_OPT_LIST);
    expectThat(!listed.some((reply) => reply.data.toString("latin1").includes(key)), "NBD_OPT_LIST shows hosts the registration key");
  } finally {
    peer.destroy();
  }
}

async function refusedChangesNothingCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  const [name, definition] = apparatusMethods().find(([method]) => method === "Hold") ?? [];
  expectThat(name !== undefined && definition !== undefined, "the Apparatus service has no Hold method");
  const outcome = await callAs(context, certificates.channel(suiteIdentities.host), name, definition);
  expectThat(outcome.code !== grpc.status.OK, "an operator's Hold was obeyed: the change protocol is the controller's");
  const state = await context.controller.getState();
  expectThat(state.holds.length === 0 && state.pending_change_id === "", `after a refused Hold GetState shows ${state.holds.length} holds, pending ${JSON.stringify(state.pending_change_id)}`);
  const write = track(context.volumeA.write(context.offsetIn(1, 5), stamp(context.nextStamp())));
  expectThat(await settlesWithin(write, unheldBoundMs), "after a refused Hold a write to its range was held");
  expectThat(write.error === undefined, `after a refused Hold a write to its range failed: ${String(write.error)}`);
}

const securityClause = "DESIGN.md \"Security\": mTLS on every gRPC call, each method checks the caller's role before its handler runs";

export const authCases: readonly ConformanceCase[] = [
  { id: "auth-no-certificate", title: "every control method refuses a caller without a certificate", checks: `${securityClause}; UNAUTHENTICATED`, needs: ["tls"], run: noCertificateCase },
  { id: "auth-foreign-ca", title: "every control method refuses a certificate of another CA", checks: `${securityClause}; the cluster CA is the only signer trusted`, needs: ["tls"], run: foreignCaCase },
  { id: "auth-wrong-role", title: "every control method refuses operators, viewers and devices", checks: `${securityClause}; PERMISSION_DENIED`, needs: ["tls"], run: wrongRoleCase },
  { id: "auth-not-holder", title: "another apparatus cannot act under the controller's epoch", checks: "DESIGN.md \"Security\": Apparatus methods only from the apparatus that holds the lease; PERMISSION_DENIED", needs: ["tls"], run: notHolderCase },
  { id: "auth-key-not-disclosed", title: "the registration key appears in no reply: not to another role, not to the controller, not to hosts", checks: "DESIGN.md \"Security\": registration keys and credentials never appear in replies", needs: ["tls"], run: keyNotDisclosedCase },
  { id: "auth-refused-changes-nothing", title: "a refused Hold holds nothing", checks: "DESIGN.md \"Security\": the role is checked before the handler runs; DESIGN.md errors (bad input changes nothing)", needs: ["tls"], run: refusedChangesNothingCase },
];
