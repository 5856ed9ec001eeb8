/** @switchyard/proto/testing: a generic reflection client for tests of every gRPC server. */
export { ReflectionClient, reflectionCallTimeoutMs, type ReflectionVersion } from "./testing/reflection-client.js";
