/**
 * `switchyard device serve` and `switchyard apparatus serve`: the parts of
 * the appliance as separate processes, for several machines. An apparatus
 * reaches the device's LUs over NBD, enrolls itself with the device, and
 * serves no host I/O until the controller has given it the current table and
 * registered it. Every apparatus runs a controller candidate (claim 12): the
 * one the device's arbiter grants the lease to acts, the others follow and
 * take over when it stops renewing; console calls to any apparatus are passed
 * on to whichever leads. With --etcd the arbiter, store and registrations
 * are etcd's, and the parts find each other there (serve-etcd.ts).
 */
import type * as grpc from "@grpc/grpc-js";
import { StorageDevice, deviceIdPattern } from "@switchyard/device";
import { NbdBackendSet, VirtualizationApparatus, serveApparatus, type BackendSet } from "@switchyard/apparatus";
import { prepareController, type ServedController } from "@switchyard/controller";
import { callUnary, deadlineAfter, loadGrpc } from "@switchyard/proto";
import { applianceDeviceId, serveDevice } from "../appliance.js";
import { processControl } from "../process-control.js";
import { consoleHttps } from "../web/console-listen.js";
import { etcdOption, followedCoordination } from "../appliance-etcd.js";
import { enrollOnEtcd, etcdApparatusPorts, findDeviceOnEtcd, joinEtcdAsDevice } from "./serve-etcd.js";
import { startWebConsole } from "../web/console-thread.js";
import type { Command } from "../command.js";
import type { Composition } from "../composition.js";
import { checkAddress, defaultDataDir } from "../endpoints.js";
import { publishedAddress, publishHostHelp, publishHostOf } from "../publish-host.js";
import { dataFormat, outputOptions, printData, type DataFormat, type Io } from "../output.js";
import { checkPlainControl, checkPlainHttp, insecureWarning } from "../plain-control.js";
import { checkPortsFree } from "../ports.js";
import { chooseNbdTls, nbdClientTls, nbdServerTls, nbdTlsHelp, nbdTlsOption } from "../nbd-tls.js";
import { flag, parse, portOption, requiredString, sizeOption, stringOption, UsageError, type Parsed } from "../usage.js";
import { checkExtentSize, processorsHelp, processorsOption, deviceNbdPortDefault, grpcPortDefault, interrupted, luCount, luSizeDefaultBytes, extentSizeDefaultBytes, nbdPortDefault } from "./up.js";

/** How long an apparatus waits for the device to take its enrollment. */
const enrollTimeoutMs = 10_000;

function announce(io: Io, format: DataFormat | undefined, endpoints: Record<string, unknown>, lines: readonly string[]): void {
  if (format !== undefined) printData(io, format, endpoints);
  else io.stdout.write(`${lines.join("\n")}\nPress Ctrl-C to stop.\n`);
}

export const deviceServe: Command = {
  words: ["device", "serve"],
  summary: "serve a storage device on its own: its LUs over NBD, its store and arbiter over gRPC",
  help: `Usage: switchyard device serve [--dir DIR] [--id ID] [--host H] [--publish-host H] [--grpc-port P] [--nbd-port P]
                               [--lu-size SIZE] [--extent-size SIZE] [--cert-dir DIR | --insecure] [--etcd URLS]
                               [--output table|json|yaml]

Opens (or creates, with two LUs) the device in DIR and serves it until Ctrl-C:
the Device gRPC service (inventory, arbiter, configuration store, fencing,
copy offload) and each LU as an NBD export for apparatuses. With --cert-dir
the LU exports require TLS, and an apparatus opens an LU only under the name
its certificate carries.

Options:
  --dir DIR              data folder (default ./${defaultDataDir})
  --id ID                the device's name when DIR is new (default ${applianceDeviceId}); a device named
                         otherwise names its LUs ID-lu0, ID-lu1, so several devices can share one
                         cluster (--etcd); an existing DIR keeps its name, and another ID is refused
  --host H               address to listen on (default 127.0.0.1)
${publishHostHelp}
  --grpc-port P          gRPC port (default ${grpcPortDefault}; 0: a free port)
  --nbd-port P           NBD port of the LUs (default ${deviceNbdPortDefault}; 0: a free port)
  --lu-size SIZE         size of each LU when DIR is new (default 1GiB)
  --extent-size SIZE     storage area size when DIR is new (default 4MiB)
${certDirHelp("device")}
  --etcd URLS            coordinate on an existing etcd cluster (comma-separated client URLs): the
                         election, the configuration store and registrations live there; an empty
                         cluster is seeded from DIR's store; the device publishes its addresses
                         there, so 'apparatus serve --etcd' finds it
  --output FORMAT, -o    how to print the endpoints: table (default), json or yaml
  --json                 the same as --output json

Example:
  switchyard device serve --dir ./dev0 --grpc-port 50051
  switchyard device serve --dir ./d2 --id d2 --etcd http://10.0.0.1:2379   # a second device: LUs d2-lu0, d2-lu1
  switchyard device serve --dir ./dev0 --etcd http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379
  switchyard device serve --dir ./dev0 --cert-dir ./tls/device-dev0   # mutual TLS ('switchyard cert node')
  switchyard device serve --dir ./dev0 --host 0.0.0.0 --publish-host 192.0.2.5 --cert-dir ./tls/device-dev0 --etcd http://192.0.2.1:2379`,
  async run(argv, io) {
    const parsed = parse(argv, {
      dir: { type: "string" }, id: { type: "string" }, host: { type: "string" }, "publish-host": { type: "string" }, "grpc-port": { type: "string" }, "nbd-port": { type: "string" },
      "lu-size": { type: "string" }, "extent-size": { type: "string" }, "cert-dir": { type: "string" }, insecure: { type: "boolean" }, ...outputOptions,
      etcd: { type: "string" },
    }, 0);
    const etcd = etcdOption(stringOption(parsed, "etcd"));
    const host = stringOption(parsed, "host") ?? "127.0.0.1";
    const certDir = stringOption(parsed, "cert-dir");
    const insecure = flag(parsed, "insecure");
    checkPlainControl(host, certDir !== undefined, insecure, "--cert-dir");
    const publishHost = publishHostOf(host, stringOption(parsed, "publish-host"));
    const grpcPort = portOption(parsed, "grpc-port", grpcPortDefault);
    const deviceNbdPort = portOption(parsed, "nbd-port", deviceNbdPortDefault);
    const luSizeBytes = sizeOption(parsed, "lu-size") ?? luSizeDefaultBytes;
    const extentSizeBytes = checkExtentSize(sizeOption(parsed, "extent-size") ?? extentSizeDefaultBytes);
    const dir = stringOption(parsed, "dir") ?? defaultDataDir;
    // Every option is checked before the ports: a bad --id is the error to print, whatever else holds the ports.
    const deviceId = nodeIdOption(parsed) ?? applianceDeviceId;
    await checkPortsFree(host, [
      { port: grpcPort, option: "--grpc-port", what: "the device's gRPC" },
      { port: deviceNbdPort, option: "--nbd-port", what: "the device's LUs over NBD" },
    ]);
    const followed = etcd === undefined ? undefined : followedCoordination(etcd, "worker");
    // Its gRPC server on a control thread, apart from the LUs' NBD serving
    // (process-control.ts). Started first, so that the thread loads gRPC and
    // TLS while the device opens and syncs its files (0.2 s sooner up here).
    const control = processControl("worker");
    const device = await StorageDevice.open({
      dir, create: { deviceId, luCount, luSizeBytes, extentSizeBytes, luIdPrefix: luIdPrefixOf(deviceId) }, ...(followed === undefined ? {} : { coordination: followed }),
      // Copying an extent onto another device's LU, it presents its own certificate there.
      ...(certDir === undefined ? {} : { peerTls: nbdClientTls(certDir) }),
    }).catch(async (error: unknown) => {
      await control.close();
      throw error;
    });
    if (device.id !== deviceId && stringOption(parsed, "id") !== undefined) {
      await device.close();
      await followed?.close();
      await control.close();
      throw new UsageError(`${dir} holds device ${device.id}, not ${deviceId}: give --id ${device.id}, or another --dir`);
    }
    if (insecure) io.stderr.write(insecureWarning("device serve"));
    const served = await serveDevice(device, { host, publishHost, grpcPort, deviceNbdPort, tlsFolder: certDir, serving: control.plain });
    if (followed !== undefined && etcd !== undefined) await joinEtcdAsDevice(device, followed, etcd, { grpc: served.grpc, nbd: served.nbd });
    const stop = interrupted();
    announce(io, dataFormat(parsed), { pid: process.pid, device: { id: device.id, grpc: served.grpc, nbd: served.nbd } }, [
      `switchyard device serve: ${device.id} from ${device.dir} (pid ${process.pid})`,
      `  gRPC ${served.grpc}, LUs over NBD at ${served.nbd}`,
    ]);
    io.stderr.write(`switchyard device serve: ${await stop}, stopping\n`);
    await served.nbdServer.close();
    await served.grpcServer.close();
    await control.close();
    await device.close();
    await followed?.close();
    return 0;
  },
};

/**
 * The LU id prefix of a device created as `deviceId`: none for the default
 * device, whose LUs stay lu0, lu1 as in every single-device cluster, tests
 * and folders made before; `<id>-` for any other, since LU ids name LUs in
 * the whole cluster's table and device ids are unique there (etcd's
 * directory keys them), so `<id>-lu0` is unique without any coordination.
 */
export function luIdPrefixOf(deviceId: string): string {
  return deviceId === applianceDeviceId ? "" : `${deviceId}-`;
}

/** --id of a node: letters, digits, '.', '_', '-', at most 64, as device.json and certificates name it; a usage error otherwise. */
function nodeIdOption(parsed: Parsed): string | undefined {
  const id = stringOption(parsed, "id");
  if (id !== undefined && !deviceIdPattern.test(id)) {
    throw new UsageError(`--id ${JSON.stringify(id)}: an id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return id;
}

/** Help for --cert-dir of a node: the identity folder its servers and calls use. */
function certDirHelp(role: "device" | "apparatus"): string {
  return `  --cert-dir DIR         this ${role}'s certificate folder ('switchyard cert node --role ${role}'): its gRPC
                         then serves mutual TLS, each method checked against the caller's role, and
                         it calls the other parts with that certificate; needed when --host is not a
                         loopback address (without it: plain gRPC, on loopback only)
  --insecure             plain gRPC, said on purpose: warns at every start; refused with an address
                         other machines reach`;
}

async function enroll(deviceAddress: string, credentials: grpc.ChannelCredentials, record: { id: string; nbd: string; grpc: string }): Promise<void> {
  const device = new (loadGrpc().switchyard.v1.Device)(deviceAddress, credentials);
  try {
    await callUnary((done) => device.Enroll({ apparatus: record }, { deadline: deadlineAfter(enrollTimeoutMs) }, done));
  } finally {
    device.close();
  }
}

/** `--console-dir`, which a console needs for its login tokens; beyond loopback it serves HTTPS, so it needs --cert-dir too. */
function consoleDirOption(parsed: Parsed, host: string, tlsFolder: string | undefined): string {
  checkPlainHttp(host, tlsFolder !== undefined, "--cert-dir");
  const dir = stringOption(parsed, "console-dir");
  if (dir === undefined) throw new UsageError("--http-port needs --console-dir DIR: the folder where the web console keeps its login tokens");
  return dir;
}

/** `switchyard apparatus serve` built with `composition` (composition.ts). */
export function apparatusServeCommand(composition: Composition): Command {
  return {
    words: ["apparatus", "serve"],
    summary: "serve one virtualization apparatus on its own, against a device",
    help: `Usage: switchyard apparatus serve --id ID (--device HOST:PORT | --etcd URLS) [--host H] [--publish-host H] [--nbd-port P]
                                  [--grpc-port P] [--http-port P --console-dir DIR] [--processors 1|2] [--no-candidate]
                                  [--cert-dir DIR | --insecure] [--nbd-tls MODE] [--output table|json|yaml]

Serves the volumes over NBD through a configuration table kept up to date by
the controller, reaching the device's LUs over NBD. It enrolls with the
device and serves host I/O once the controller has registered it. Every
apparatus also runs a candidate for the controller role (by default on a
worker thread of its own, with its own gRPC port): the one the device's
arbiter grants the lease acts, the others take over if it stops renewing.
Console commands take --endpoint with the gRPC address of any apparatus,
which passes them on to the controller.

Options:
  --id ID                the apparatus's name (letters, digits, '.', '_', '-')
  --device HOST:PORT     the device's gRPC address (with --etcd: only to choose another than the first
                         device published there)
  --etcd URLS            coordinate on an existing etcd cluster (comma-separated client URLs): find
                         the device there (published by 'device serve --etcd'), enroll there,
                         campaign there for the controller role, and renew the registration there
                         (so losing the device stops only I/O to its LUs)
  --host H               address to listen on (default 127.0.0.1)
${publishHostHelp}
  --nbd-port P           NBD port for hosts (default ${nbdPortDefault}; 0: a free port)
  --grpc-port P          gRPC port (default 0: a free port)
  --http-port P          serve the web console and this process's /metrics on P (0: a free port);
                         the page asks whichever apparatus leads through this one (default: none)
  --console-dir DIR      with --http-port: where the console keeps its login tokens (made on first
                         start, 0600: operator-token, viewer-token, and metrics-token for scrapers)
${processorsHelp}
  --no-candidate         never campaign for the controller role: another process (a controller
                         elsewhere, or a conformance suite) must drive this apparatus
${certDirHelp("apparatus")}
${nbdTlsHelp("--cert-dir")}
  --output FORMAT, -o    how to print the endpoints: table (default), json or yaml
  --json                 the same as --output json

Example:
  switchyard apparatus serve --id a1 --device 127.0.0.1:50051 --grpc-port 50060
  switchyard apparatus serve --id a2 --etcd http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379
  switchyard volume create vm1 --size 1GiB --endpoint 127.0.0.1:50060
  switchyard apparatus serve --id a1 --device 192.0.2.5:50051 --host 192.0.2.6 --cert-dir ./tls/apparatus-a1 --nbd-tls require`,
    async run(argv, io) {
      const parsed = parse(argv, {
        id: { type: "string" }, device: { type: "string" }, host: { type: "string" }, "publish-host": { type: "string" }, "nbd-port": { type: "string" },
        "grpc-port": { type: "string" }, ...outputOptions, processors: { type: "string" },
        "http-port": { type: "string" }, "no-candidate": { type: "boolean" }, "cert-dir": { type: "string" }, insecure: { type: "boolean" }, "nbd-tls": { type: "string" },
        "console-dir": { type: "string" }, etcd: { type: "string" },
      }, 0);
      const etcd = etcdOption(stringOption(parsed, "etcd"));
      const tlsFolder = stringOption(parsed, "cert-dir");
      const tls = tlsFolder === undefined ? {} : { tlsFolder };
      const httpPort = stringOption(parsed, "http-port") === undefined ? undefined : portOption(parsed, "http-port", 0);
      const controllerThread = processorsOption(stringOption(parsed, "processors"));
      const id = nodeIdOption(parsed) ?? requiredString(parsed, "id");
      // With --etcd the device is found there; without it, --device is required.
      const deviceText = stringOption(parsed, "device");
      if (deviceText === undefined && etcd === undefined) throw new UsageError("--device HOST:PORT is required (or --etcd URLS, where the device publishes its address)");
      const deviceGiven = deviceText === undefined ? undefined : checkAddress(deviceText, "--device");
      const host = stringOption(parsed, "host") ?? "127.0.0.1";
      const insecure = flag(parsed, "insecure");
      checkPlainControl(host, tlsFolder !== undefined, insecure, "--cert-dir");
      const publishHost = publishHostOf(host, stringOption(parsed, "publish-host"));
      const nbdTls = chooseNbdTls({ requested: nbdTlsOption(stringOption(parsed, "nbd-tls")), dataHost: host, certificates: tlsFolder !== undefined, insecure, certificateOption: "--cert-dir" });
      if (insecure) io.stderr.write(insecureWarning("apparatus serve"));
      const consoleDir = httpPort === undefined ? undefined : consoleDirOption(parsed, host, tlsFolder);
      const nbdPort = portOption(parsed, "nbd-port", nbdPortDefault);
      const grpcPort = portOption(parsed, "grpc-port", 0);
      await checkPortsFree(host, [
        { port: nbdPort, option: "--nbd-port", what: `apparatus ${id}'s NBD` },
        { port: grpcPort, option: "--grpc-port", what: `apparatus ${id}'s gRPC` },
        { port: httpPort ?? 0, option: "--http-port", what: "the web console" },
      ]);
      // Its thread loads while the apparatus serves and enrolls: the candidate campaigns 0.2-0.3 s sooner here.
      const candidateThread = flag(parsed, "no-candidate") ? undefined : prepareController(controllerThread);
      // On etcd any published device will do: who holds an epoch is asked of etcd itself (etcdApparatusPorts).
      const deviceAddress = deviceGiven ?? (etcd === undefined ? "" : (await findDeviceOnEtcd(etcd)).grpc);
      const decorateBackends = composition.apparatusBackends ?? ((backends: BackendSet): BackendSet => backends);
      const apparatus = new VirtualizationApparatus({
        id,
        backends: decorateBackends(new NbdBackendSet(tlsFolder === undefined ? {} : { tls: nbdClientTls(tlsFolder) })),
        fencedUntilRegistered: true,
        ...tls,
        deviceAddress,
        // On etcd the registration is renewed there, so the device is not on this apparatus's liveness path.
        ...(etcd === undefined ? {} : etcdApparatusPorts(followedCoordination(etcd, controllerThread))),
        ...(composition.apparatusBehaviour === undefined ? {} : { behaviour: composition.apparatusBehaviour }),
      });
      const slot: { controller?: ServedController; leader?: string } = {};
      const control = processControl(controllerThread);
      // Console calls go to the controller the arbiter named last, or to our own candidate until one is named.
      const followLeader = (): void => {
        control.forwardTo(slot.leader === undefined || slot.leader === "" ? slot.controller?.address : slot.leader);
      };
      const served = await serveApparatus(apparatus, {
        host,
        nbdPort,
        grpcPort,
        nbdTls: nbdServerTls(nbdTls, tlsFolder),
        ...(composition.apparatusNbdRequestCheck === undefined ? {} : { nbdRequestCheck: composition.apparatusNbdRequestCheck }),
        serving: control.forwarding(tlsFolder),
      });
      const record = { id, nbd: publishedAddress(served.nbdAddress, publishHost), grpc: publishedAddress(served.grpcAddress, publishHost) };
      // A start that fails from here closes what it opened, so the process exits with its error instead of serving half.
      await (etcd === undefined ? enroll(deviceAddress, apparatus.credentials.channel, record) : enrollOnEtcd(etcd, record)).catch(async (error: unknown) => {
        await served.close();
        await control.close();
        await candidateThread?.abandon();
        throw error;
      });
      // A conformance run needs its suite to be the only controller: with --no-candidate this process never asks for the lease.
      if (candidateThread !== undefined) {
        const changePortsModule = composition.changePortsModule;
        // Its own apparatus, at the address the store has for it, over a MessagePort (process-links.ts in the controller package).
        const links = served.link === undefined ? [] : [{ address: record.grpc, port: served.link() }];
        const candidate = {
          id, host, publishHost, grpcPort: 0, deviceAddress, apparatuses: [], links, ...tls, ...(changePortsModule === undefined ? {} : { changePortsModule }), ...(etcd === undefined ? {} : { etcd }),
        };
        slot.controller = await candidateThread.start(candidate, (address) => {
          slot.leader = address;
          followLeader();
        });
        followLeader();
      }
      // Through this apparatus's own Controller forwarding: it follows the lease wherever it goes.
      const web =
        httpPort === undefined
          ? undefined
          : await startWebConsole(controllerThread, {
              host, port: httpPort, controllerAddress: served.grpcAddress, credentialsFolder: tlsFolder,
              tokensFolder: consoleDir ?? "", ...(await consoleHttps(host, tlsFolder)),
            }, [apparatus], []);
      const stop = interrupted();
      const controllerAddress = slot.controller?.address ?? "";
      const endpoints = { pid: process.pid, id, nbd: served.nbdAddress, grpc: served.grpcAddress, device: deviceAddress, controller: controllerAddress };
      announce(io, dataFormat(parsed), web === undefined ? endpoints : { ...endpoints, console: { http: web.address, url: web.url, tokens: web.tokens } }, [
        `switchyard apparatus serve: ${id} (pid ${process.pid})`,
        `  NBD ${served.nbdAddress}, gRPC ${served.grpcAddress}, device ${deviceAddress}, ` +
          (controllerAddress === "" ? "no controller candidate" : `controller candidate ${controllerAddress}`),
        ...(web === undefined ? [] : [`  web console: ${web.url} (Prometheus metrics at ${web.url}metrics)`]),
      ]);
      io.stderr.write(`switchyard apparatus serve: ${await stop}, stopping\n`);
      await web?.close();
      await slot.controller?.close();
      await served.close();
      await control.close();
      return 0;
    },
  };
}

export const apparatusServe: Command = apparatusServeCommand({});
