import { connect, type Socket } from 'node:net';

/**
 * A slow client on a raw socket: sends `head` at once, then one byte of `trickle` every 100 ms for up to
 * `trickleMs`; resolves when the server closes the connection (`cut`) or the trickle ends.
 */
export function trickle(
  port: number,
  head: string,
  trickleText: string,
  trickleMs = 15_000,
): Promise<{ cut: boolean; response: string }> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let response = '';
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (cut: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      socket.destroy();
      resolve({ cut, response });
    };
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      const started = Date.now();
      let i = 0;
      timer = setInterval(() => {
        if (Date.now() - started > trickleMs) return finish(false);
        socket.write(trickleText[i++ % trickleText.length]!);
      }, 100);
    });
  });
}
