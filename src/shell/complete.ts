// Tab completion as zkCli's JLineZNodeCompleter does it: the word under the cursor completes to a
// command name, or, when it starts with '/', to a child of the znode it names so far. A single
// match is followed by a space, as JLine prints one after a full completion.
import { ZkClient } from '../client/zkclient';

export type Completion = [string[], string];

export async function complete(line: string, commands: readonly string[], zk: ZkClient | null): Promise<Completion> {
  const words = line.split(' ');
  const token = line.endsWith(' ') ? '' : words[words.length - 1];
  if (token.startsWith('/')) {
    const cut = token.lastIndexOf('/') + 1;
    const prefix = token.substring(cut);
    // only the root may end in '/': "/a/b" lists "/a", "/b" lists "/"
    const dir = cut === 1 ? '/' : token.substring(0, cut - 1);
    if (!zk?.isConnected) return [[], token];
    try {
      const { children } = await zk.getChildren(dir);
      const hits = children.filter((c) => c.startsWith(prefix)).sort();
      return [full(hits.map((c) => token.substring(0, cut) + c)), token];
    } catch {
      return [[], token];
    }
  }
  return [full(commands.filter((c) => c.startsWith(token))), token];
}

const full = (hits: string[]): string[] => (hits.length === 1 ? [hits[0] + ' '] : hits);
