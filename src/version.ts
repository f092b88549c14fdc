// Versions reported to clients and operators. We speak ZooKeeper 3.8's protocol, so tools that parse
// "zookeeper.version" (kazoo's server_version, Curator's compatibility checks) see 3.8.0 first.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const pkg = require('../package.json') as { version: string };

export const ZK_VERSION = '3.8.0';
export const PACKAGE_VERSION = pkg.version;
export const VERSION_STRING = `${ZK_VERSION}-zk-server-${pkg.version}, built on 2026-11-22 00:00 UTC`;
