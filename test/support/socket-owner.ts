/**
 * Which local process opened a loopback TCP connection (Linux /proc). A receiver in a
 * multi-process test calls it on each new connection to learn which Rivulet process sends
 * to it, without Rivulet having to say so in a header: the client's port finds the socket's
 * inode in /proc/net/tcp, and the inode is found among the candidate processes' open fds.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';

/** the pid among `pids` owning the TCP socket 127.0.0.1:`clientPort` → 127.0.0.1:`serverPort`, or null */
export async function socketOwner(clientPort: number, serverPort: number, pids: number[]): Promise<number | null> {
  const inode = await socketInode(clientPort, serverPort);
  if (inode === null) return null;
  const needle = `socket:[${inode}]`;
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === needle) return pid;
    }
  }
  return null;
}

async function socketInode(clientPort: number, serverPort: number): Promise<string | null> {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const local = `0100007F:${hex(clientPort)}`;
  const remote = `0100007F:${hex(serverPort)}`;
  const table = await readFile('/proc/net/tcp', 'utf8');
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    // sl, local_address, rem_address, st, queues, tr, retrnsmt, uid, timeout, inode
    if (cols[1] === local && cols[2] === remote) return cols[9] ?? null;
  }
  return null;
}
