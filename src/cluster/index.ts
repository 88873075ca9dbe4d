export { Cluster, type ClusterStats, type PoolFactory } from './cluster.js';
export {
  CLUSTER_EVENT_NAMES,
  type ClusterEventName,
  type ClusterEvents,
  type ClusterListener,
} from './emitter.js';
export type { MemberStats } from './member.js';
export { CLUSTER_DEFAULTS, type ClusterOptions } from './options.js';
export { type MemberRole, mariadbRole, pgRole, type Queryable } from './pg-role.js';
