import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** At most this much of a refused body is read and discarded before answering anyway. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/**
 * A body refused before it was read (413 over the body limit, say) is still on its way. Answering at
 * once, with `Connection: close`, has Node close the socket while the sender is still writing: it gets
 * EPIPE or a reset, and often never reads the answer. So the rest of the body is read and discarded
 * first (at most MAX_DISCARDED_BYTES, within `lingerMs`), then the answer is sent and the connection
 * closed after it, gracefully.
 */
export function lingerAfterEarlyResponse(app: FastifyInstance, lingerMs: number): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.raw.complete && reply.statusCode >= 400 && reply.getHeader('connection') === 'close')
      await discardRest(request.raw, lingerMs);
    return payload;
  });
}

function discardRest(raw: IncomingMessage, lingerMs: number): Promise<void> {
  return new Promise((resolve) => {
    let discarded = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('error', done);
      raw.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > MAX_DISCARDED_BYTES) done();
    };
    const timer = setTimeout(done, lingerMs);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('error', done);
    raw.once('close', done);
    raw.resume();
  });
}
