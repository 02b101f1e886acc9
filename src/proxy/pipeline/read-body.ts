/**
 * Step 4 of `/mcp/{server}`: reads the whole body of a POST, bounded by `maxBodyBytes` (413 `BODY_TOO_LARGE`
 * past it). The later steps parse it only when a rule needs it (mcp-request.ts `jsonRpcOf`); the forwarder sends
 * it upstream, and replays it as is when the upstream refuses a credential once (401).
 * Puts on the context: `mcp.body` (a Buffer for POST; GET and DELETE keep null).
 */
import { BodyTooLargeError, readWholeBody, streamRequestBody } from '../request-body.js';
import { jsonRpcErrorBody } from '../jsonrpc-errors.js';
import type { McpStep } from './mcp-request.js';

export interface ReadBodyOptions {
  maxBodyBytes: number;
}

export function readBody(opts: ReadBodyOptions): McpStep {
  if (!opts || !Number.isInteger(opts.maxBodyBytes) || opts.maxBodyBytes < 0) throw new TypeError('readBody: maxBodyBytes must be a non-negative integer');
  const { maxBodyBytes } = opts;
  const tooLarge = jsonRpcErrorBody('BODY_TOO_LARGE', { message: `Invalid Request: request body larger than ${maxBodyBytes} bytes` });

  return async function readMcpBody(c, next) {
    const req = c.get('mcp');
    if (req.method === 'POST') {
      try {
        // Synchronously when the body is all here already (the usual case), else as a stream.
        req.body = readWholeBody(c.env.incoming, maxBodyBytes) ?? await streamRequestBody(c.env.incoming, maxBodyBytes);
      } catch (e) {
        if (e instanceof BodyTooLargeError) return c.json(tooLarge, 413);
        throw e;
      }
    }
    await next();
  };
}
