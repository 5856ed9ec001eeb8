/**
 * @switchyard/coordination/testing: the shared suite every Coordination
 * passes, and a real three-member etcd cluster to run it on.
 */
export {
  campaignUntilGranted,
  coordinationSuite,
  nextState,
  type CoordinationSuiteRunner,
  type CoordinationSuiteTarget,
  type CoordinationUnderTest,
} from "./coordination-suite.js";
export {
  etcdClusterStartTimeoutMs,
  etcdClusterStopTimeoutMs,
  startEtcdCluster,
  type EtcdTestCluster,
  type EtcdTestMember,
} from "./etcd-cluster.js";
