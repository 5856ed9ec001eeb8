/**
 * Hosts' NBD over TLS (NBD proto.md "TLS support", DESIGN.md "Security":
 * STARTTLS with x509, required off loopback, client certificates of the
 * cluster CA): a server that requires TLS refuses every option but
 * STARTTLS and ABORT in plain text; inside TLS a host does its I/O; a
 * second STARTTLS is invalid; a certificate of another CA, or none, does
 * not get through the handshake.
 */
import {
  NBD_OPT_GO,
  NBD_OPT_LIST,
  NBD_OPT_STARTTLS,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_TLS_REQD,
  type NbdClientTls,
} from "@switchyard/nbd";
import { goData } from "@switchyard/nbd/testing";
import { SkipCase, expectThat } from "../check.js";
import type { CaseContext } from "../context.js";
import { stamp } from "../layout.js";
import type { ConformanceCase } from "./case.js";
import { greeted, hexOf, nbdCodeOf, optionReplies, plainText } from "./nbd-peer.js";

async function requiredCase(context: CaseContext): Promise<void> {
  context.requireCertificates();
  if (context.features.nbdTls !== "require") throw new SkipCase(`the features file declares nbd-tls: ${context.features.nbdTls}, not require`);
  const peer = await greeted(context, plainText);
  try {
    for (const [option, data] of [[NBD_OPT_LIST, Buffer.alloc(0)], [NBD_OPT_GO, goData(context.layout.volumeA.name, [])]] as const) {
      peer.sendOption(option, data);
      const final = (await optionReplies(peer, option)).at(-1)?.replyType ?? 0;
      expectThat(final === NBD_REP_ERR_TLS_REQD, `option ${option} in plain text got reply ${hexOf(final)}, expected NBD_REP_ERR_TLS_REQD: a server that requires TLS serves nothing before STARTTLS`);
    }
  } finally {
    peer.destroy();
  }
  const plain = await context.connectHost(context.layout.volumeA.name, plainText).then(
    async (client) => {
      await client.close();
      return "OPENED";
    },
    (error: unknown) => nbdCodeOf(error),
  );
  expectThat(plain !== "OPENED", "a plain-text client opened a volume of a server that requires TLS");
}

async function tlsIoCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  const client = await context.connectHost(context.layout.volumeA.name, certificates.nbdTls());
  try {
    const value = context.nextStamp();
    await client.write(context.offsetIn(2, 9), stamp(value));
    expectThat((await context.readStamp(client, context.offsetIn(2, 9))) === value, "a write inside TLS did not read back");
  } finally {
    await client.close();
  }
  const peer = await greeted(context, certificates.nbdTls());
  try {
    // proto.md: STARTTLS once TLS is up MUST be answered NBD_REP_ERR_INVALID.
    peer.sendOption(NBD_OPT_STARTTLS);
    const again = await peer.readOptionReply();
    expectThat(again.replyType === NBD_REP_ERR_INVALID, `a second NBD_OPT_STARTTLS got reply ${hexOf(again.replyType)}, expected NBD_REP_ERR_INVALID`);
  } finally {
    peer.destroy();
  }
}

async function expectHandshakeRefused(context: CaseContext, tls: NbdClientTls, who: string): Promise<void> {
  const got = await context.connectHost(context.layout.volumeA.name, tls).then(
    async (client) => {
      await client.close();
      return "OPENED";
    },
    (error: unknown) => nbdCodeOf(error),
  );
  expectThat(got !== "OPENED", `${who} opened a volume over TLS: the server must accept only client certificates of the cluster CA`);
}

async function untrustedCase(context: CaseContext): Promise<void> {
  const certificates = context.requireCertificates();
  await expectHandshakeRefused(context, certificates.foreignNbdTls(), "a host with a certificate of another CA");
  await expectHandshakeRefused(context, { ca: certificates.clusterCa() }, "a host without a client certificate");
}

const tlsClause = "NBD proto.md \"TLS support\"; DESIGN.md \"Security\" (NBD over TLS, x509)";

export const tlsCases: readonly ConformanceCase[] = [
  { id: "nbd-tls-required", title: "a server that requires TLS serves nothing in plain text", checks: `${tlsClause}: NBD_REP_ERR_TLS_REQD`, needs: ["nbd-tls"], run: requiredCase },
  { id: "nbd-tls-io", title: "STARTTLS, then I/O inside TLS; a second STARTTLS is invalid", checks: `${tlsClause}: NBD_OPT_STARTTLS`, needs: ["nbd-tls"], run: tlsIoCase },
  { id: "nbd-tls-untrusted", title: "a host with another CA's certificate, or none, is refused", checks: `${tlsClause}: client certificates of the cluster CA`, needs: ["nbd-tls"], run: untrustedCase },
];
