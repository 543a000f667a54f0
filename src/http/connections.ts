import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { Problem, problemBody } from '../errors.js';
import { PROBLEM_CONTENT_TYPE } from './problems.js';

/**
 * Answers a problem straight on the socket and closes it. For the moments no Fastify reply exists
 * (Node's own client errors) or none can be sent (a body that stopped arriving mid-parse).
 */
export function writeProblemAndClose(socket: Socket, problem: Problem) {
  if (socket.writable) {
    const body = JSON.stringify(problemBody(problem));
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Node's answers to malformed HTTP, slow headers and oversized headers, as problem+json (Fastify's clientErrorHandler). */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new Problem('request_timeout', 'the request headers were not received in time')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new Problem('headers_too_large', 'the request headers are larger than this service accepts')
        : new Problem('malformed_request', 'the request is not valid HTTP/1.1');
  writeProblemAndClose(socket, problem);
}

/**
 * The soft limit on open file descriptors, where the system tells it (Linux): every connection
 * takes one, and a process that runs out cannot even read its own memory usage.
 */
export function openFileLimit(limits: string): number | null {
  const m = /^Max open files\s+(\d+)/m.exec(limits);
  return m ? Number(m[1]) : null;
}

/** Descriptors kept free for the database pool, log and data files, and the listener itself. */
export const RESERVED_FILE_DESCRIPTORS = 128;

/** The connection cap: the configured one, lowered where the descriptor limit would be reached first. */
export function connectionCap(configured: number, fileLimit: number | null): number {
  if (fileLimit === null) return configured;
  return Math.max(1, Math.min(configured, fileLimit - RESERVED_FILE_DESCRIPTORS));
}
