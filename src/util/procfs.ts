// The process's file descriptors as Linux shows them in /proc: what mntr's
// zk_open_file_descriptor_count / zk_max_file_descriptor_count and /metrics' process_open_fds /
// process_max_fds report (ZooKeeper reads the same from UnixOperatingSystemMXBean). -1 when /proc
// cannot be read: not Linux, or no descriptor left to open it with.

import * as fs from 'node:fs';

export function openFileDescriptors(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** The soft RLIMIT_NOFILE (`ulimit -n`): the limit the process runs into. */
export function maxFileDescriptors(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return -1;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return -1;
  }
}
