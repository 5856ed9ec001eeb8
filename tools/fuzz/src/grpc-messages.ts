/**
 * Random messages of the right type for any method, built from the
 * descriptors in @switchyard/proto's package definition (so every message
 * type of every service is covered without a line per type), and mutated
 * encodings of them. Field values lean towards the edges: empty, zero,
 * negative, the largest of each integer type, ids the servers really have.
 */
import type * as grpc from "@grpc/grpc-js";
import { packageDefinition } from "@switchyard/proto";
import { grpcNestingDepthMax, grpcRandomBytesMax, grpcRepeatedMax, grpcStringLengthMax } from "./limits.js";
import type { SeededRandom } from "./seeded-random.js";

/** The parts of google.protobuf.FieldDescriptorProto the generator reads. */
interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

/** A message's descriptor, as proto-loader gives it. */
interface MessageDescriptor {
  readonly field: readonly FieldDescriptor[];
}

interface EnumDescriptor {
  readonly value: readonly { readonly name: string; readonly number: number }[];
}

/** One method of one service, with what it takes to call it generically. */
export interface FuzzMethod {
  readonly serviceName: string;
  readonly methodName: string;
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestTypeName: string;
  readonly serialize: (value: object) => Buffer;
}

export type FieldValue = string | number | boolean | Buffer | FieldValue[] | { [name: string]: FieldValue };

function isMethodMap(value: object): value is Record<string, grpc.MethodDefinition<object, object> & { requestType: { type: MessageDescriptor } }> {
  return !("format" in value);
}

/** Every method of every service in the .proto files. */
export function fuzzMethods(): FuzzMethod[] {
  const methods: FuzzMethod[] = [];
  for (const [serviceName, definition] of Object.entries(packageDefinition())) {
    if (!isMethodMap(definition)) continue;
    for (const [methodName, method] of Object.entries(definition)) {
      methods.push({
        serviceName,
        methodName,
        path: method.path,
        requestStream: method.requestStream,
        responseStream: method.responseStream,
        requestTypeName: requestTypeNameOf(method.requestType.type, serviceName, methodName),
        serialize: (value: object) => method.requestSerialize(value),
      });
    }
  }
  return methods;
}

/** Strings the servers know, so some requests reach past the first lookup. */
const knownStrings = ["", "a", "c", "test-device", "lu-0", "lu-1", "v", "volume-1", "change-1", "127.0.0.1:1", "switchyard.v1.Device", "grpc.health.v1.Health"] as const;

/** The fully qualified name of a method's request type: its descriptor's name, in the service's package first. */
function requestTypeNameOf(descriptor: MessageDescriptor & { readonly name?: string }, serviceName: string, methodName: string): string {
  const packageName = serviceName.slice(0, serviceName.lastIndexOf("."));
  const names = Object.keys(packageDefinition());
  const found = names.find((name) => name === `${packageName}.${descriptor.name ?? ""}`) ?? names.find((name) => name.endsWith(`.${descriptor.name ?? ""}`));
  if (found === undefined) throw new Error(`no request type found for ${serviceName}.${methodName}`);
  return found;
}

/** A field's type name as the descriptors give it (qualified or not) to its definition's key. */
function resolveTypeName(typeName: string): string {
  const bare = typeName.replace(/^\./, "");
  const names = Object.keys(packageDefinition());
  return names.includes(bare) ? bare : (names.find((name) => name.endsWith(`.${bare}`)) ?? bare);
}

function messageDescriptor(typeName: string): MessageDescriptor {
  const definition = packageDefinition()[resolveTypeName(typeName)];
  if (definition === undefined || !("format" in definition)) throw new Error(`unknown message type ${typeName}`);
  return definition.type as MessageDescriptor;
}

/** A random message of `typeName`; nested messages stop at grpcNestingDepthMax. */
export function randomMessage(random: SeededRandom, typeName: string, depth = 0): { [name: string]: FieldValue } {
  const message: { [name: string]: FieldValue } = {};
  for (const field of messageDescriptor(typeName).field) {
    if (!random.chance(0.7)) continue;
    if (field.type === "TYPE_MESSAGE" && depth >= grpcNestingDepthMax) continue;
    if (field.label === "LABEL_REPEATED") {
      const values: FieldValue[] = [];
      const count = random.below(grpcRepeatedMax + 1);
      for (let index = 0; index < count; index += 1) values.push(randomField(random, field, depth));
      message[field.name] = values;
    } else {
      message[field.name] = randomField(random, field, depth);
    }
  }
  return message;
}

function randomField(random: SeededRandom, field: FieldDescriptor, depth: number): FieldValue {
  switch (field.type) {
    case "TYPE_STRING":
      return randomString(random);
    case "TYPE_BYTES":
      return random.bytes(random.below(grpcRandomBytesMax));
    case "TYPE_BOOL":
      return random.chance(0.5);
    case "TYPE_DOUBLE":
    case "TYPE_FLOAT":
      return random.pick([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -1e300, random.below(1e6) / 7]);
    case "TYPE_ENUM":
      return randomEnum(random, field.typeName);
    case "TYPE_MESSAGE":
      return randomMessage(random, field.typeName, depth + 1);
    default:
      return randomInteger(random, field.type);
  }
}

function randomString(random: SeededRandom): string {
  const roll = random.below(10);
  if (roll < 5) return random.pick(knownStrings);
  if (roll < 7) return random.bytes(random.below(grpcStringLengthMax)).toString("latin1");
  if (roll < 8) return "x".repeat(random.pick([255, 256, 4096, 65_537]));
  if (roll < 9) return "é\u0000/../ \u202e";
  return `${random.pick(knownStrings)}-${random.below(100)}`;
}

function randomEnum(random: SeededRandom, typeName: string): string | number {
  const definition = packageDefinition()[resolveTypeName(typeName)];
  const values = definition !== undefined && "format" in definition ? (definition.type as EnumDescriptor).value : [];
  // An enum number the schema does not list is still valid on the wire (proto3 open enums).
  if (values.length === 0 || random.chance(0.1)) return random.pick([99, -1, 2 ** 31 - 1]);
  return random.pick(values).name;
}

/** Integers at the edges of their type: protobufjs keeps them in range on the wire. */
function randomInteger(random: SeededRandom, type: string): number {
  const unsigned = type.includes("UINT") || type.includes("FIXED") && !type.includes("SFIXED");
  const wide = type.includes("64");
  const edges = wide ? [0, 1, 2 ** 53 - 1, 2 ** 32, 4096, 1 << 20] : [0, 1, 2 ** 31 - 1, 4096, 1 << 20];
  if (unsigned) edges.push(wide ? 2 ** 53 - 1 : 2 ** 32 - 1);
  else edges.push(-1, wide ? -(2 ** 53) + 1 : -(2 ** 31));
  return random.chance(0.5) ? random.pick(edges) : random.below(wide ? 2 ** 40 : 1_000_000);
}

/** A valid encoding with bytes flipped, cut or appended; or bytes with no structure at all. */
export function mutatedBytes(random: SeededRandom, valid: Buffer): Buffer {
  if (valid.length === 0 || random.chance(0.3)) return random.bytes(random.below(grpcRandomBytesMax));
  const mutated = Buffer.from(valid);
  const kind = random.below(3);
  if (kind === 0) {
    const flips = random.between(1, 4);
    for (let flip = 0; flip < flips; flip += 1) {
      const at = random.below(mutated.length);
      mutated[at] = (mutated[at] ?? 0) ^ (1 << random.below(8));
    }
    return mutated;
  }
  if (kind === 1) return mutated.subarray(0, random.below(mutated.length));
  return Buffer.concat([mutated, random.bytes(random.between(1, 32))]);
}
