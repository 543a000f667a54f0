import { connect, type Socket } from 'node:net';

/** A client that speaks raw bytes to a listening server, for what fetch would never send. */

export interface Raw {
  socket: Socket;
  /** Everything the server sent, once it closed the connection (or `ms` passed). */
  closed(ms: number): Promise<{ data: string; closedByServer: boolean }>;
}

export function rawConnection(url: string, first: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(first);
      let data = '';
      let ended = false;
      socket.on('data', (d) => (data += String(d)));
      const end = new Promise<void>((r) => socket.once('close', () => ((ended = true), r())));
      resolve({
        socket,
        closed: async (ms) => {
          await Promise.race([end, new Promise((r) => setTimeout(r, ms))]);
          if (!ended) socket.destroy();
          return { data, closedByServer: ended };
        },
      });
    });
    socket.once('error', reject);
  });
}

export const status = (data: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
export const problemCode = (data: string) => (JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4)) as { code: string }).code;
