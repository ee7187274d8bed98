/**
 * fastify's `serverFactory` for an HTTP/1 server whose requests meet a lane (produce-lane.ts)
 * before fastify. The server is set up as fastify sets up its own.
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import type { RequestLane } from './produce-lane.js';

interface ServerSettings {
  http?: ServerOptions;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket: number;
}

export function serverWithLane(lane: RequestLane): FastifyServerFactory {
  return (handler, options): Server => {
    const settings = options as unknown as ServerSettings;
    const server = createServer(settings.http ?? {}, (req, res) => {
      if (!lane(req, res)) handler(req, res);
    });
    server.keepAliveTimeout = settings.keepAliveTimeout;
    server.requestTimeout = settings.requestTimeout;
    server.setTimeout(settings.connectionTimeout);
    if (settings.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
    return server;
  };
}
