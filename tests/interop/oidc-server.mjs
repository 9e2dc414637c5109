// An independent OAuth 2.0 / OpenID Connect server for arso-data's interop tests.
//
// It runs oidc-provider (a certified OpenID Connect implementation, pinned in
// package-lock.json) on 127.0.0.1 with a Keycloak-like issuer path, next to a
// small protected resource that accepts only that server's access tokens:
//
//   /auth/realms/arso/.well-known/openid-configuration  discovery
//   /auth/realms/arso/protocol/openid-connect/token     token endpoint
//   /auth/realms/arso/protocol/openid-connect/certs     JWKS
//   /api/telemetrija/v1/<anything>                      protected resource (GET)
//   /interop/stats                                      counters for the tests
//
// The access tokens are RS256 JWTs (RFC 9068) for the resource, which checks
// them the way a resource server elsewhere would: signature against the JWKS
// fetched over HTTP, issuer, audience and expiry, with the jose library.
//
// One client-credentials client, OIDC_CLIENT_ID / OIDC_CLIENT_SECRET.
// oidc-provider accepts its secret in the form body (client_secret_post) and
// in an HTTP Basic header (client_secret_basic) alike, so the stats count
// which of the two each token request used. Other settings from the
// environment: OIDC_PORT (0, the default, picks a free port),
// OIDC_TOKEN_TTL (access-token lifetime in seconds, default 2) and
// OIDC_EXIT_WITH_STDIN=1 (stop when stdin closes: when the parent dies).
//
// When it listens, it prints one JSON line to stdout: {"url", "issuer", ...}.
// SIGTERM or SIGINT stop it. tests/test_interop_oidc_provider.py starts and
// stops it; by hand: `npm ci && OIDC_TOKEN_TTL=60 node oidc-server.mjs`.
//
// oidc-provider 9 names Node.js 22 LTS as its runtime and prints a warning on
// stderr under Node.js 20; it runs there (the tests pass on 20.19+), and so
// does its warning about the in-memory store, which is what a test wants.

import http from 'node:http';
import { randomBytes } from 'node:crypto';

import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const ISSUER_PATH = '/auth/realms/arso';
const API_PATH = '/api/telemetrija/v1';
const PORT = Number(process.env.OIDC_PORT ?? 0);
const TOKEN_TTL = Number(process.env.OIDC_TOKEN_TTL ?? 2);
const SECRET = process.env.OIDC_CLIENT_SECRET ?? 'interop-secret-not-for-use-elsewhere';
const CLIENT_ID = process.env.OIDC_CLIENT_ID ?? 'API_TEL_1000000001';
const TOKEN_PATH = `${ISSUER_PATH}/protocol/openid-connect/token`;

const stats = {
  tokens_issued: 0,
  token_requests_basic: 0,
  token_requests_form: 0,
  resource_requests: 0,
  resource_refusals: 0,
};

async function signingKey() {
  // A fresh key per run: oidc-provider's built-in keys are for quick starts only.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: 'interop-rs256', use: 'sig', alg: 'RS256' };
}

function configuration(apiUrl, jwk) {
  return {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'openid telemetry',
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'telemetry'],
    // Keycloak's paths, so that arso-data's own URL layout finds them.
    routes: {
      token: '/protocol/openid-connect/token',
      jwks: '/protocol/openid-connect/certs',
      introspection: '/protocol/openid-connect/token/introspect',
      revocation: '/protocol/openid-connect/revoke',
      userinfo: '/protocol/openid-connect/userinfo',
      authorization: '/protocol/openid-connect/auth',
      end_session: '/protocol/openid-connect/logout',
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => apiUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openid telemetry',
          audience: apiUrl,
          accessTokenTTL: TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // Keycloak names the client in "azp"; readers of claims look there first.
    extraTokenClaims: (ctx, token) => ({ azp: token.clientId }),
    ttl: { ClientCredentials: TOKEN_TTL },
  };
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function resourceHandler(issuer, apiUrl, jwksUrl) {
  const keys = createRemoteJWKSet(new URL(jwksUrl));
  return async (req, res) => {
    stats.resource_requests += 1;
    const [scheme, token] = (req.headers.authorization ?? '').split(' ');
    try {
      if (req.method !== 'GET') throw new Error('only GET');
      if (scheme !== 'Bearer' || !token) throw new Error('no Bearer token');
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience: apiUrl,
        algorithms: ['RS256'],
        typ: 'at+jwt',
      });
      json(res, 200, [{ client_id: payload.client_id, scope: payload.scope, jti: payload.jti, exp: payload.exp }]);
    } catch (err) {
      stats.resource_refusals += 1;
      const description = String(err.message).replaceAll('"', "'");
      json(res, 401, { error: 'invalid_token', error_description: description }, {
        'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
      });
    }
  };
}

async function main() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(PORT, HOST, resolve));
  const url = `http://${HOST}:${server.address().port}`;
  const issuer = url + ISSUER_PATH;
  const apiUrl = url + API_PATH;

  const provider = new Provider(issuer, configuration(apiUrl, await signingKey()));
  provider.on('grant.success', () => { stats.tokens_issued += 1; });
  const oidc = provider.callback();
  const resource = resourceHandler(issuer, apiUrl, `${issuer}/protocol/openid-connect/certs`);

  server.on('request', (req, res) => {
    const path = req.url.split('?')[0];
    if (path === TOKEN_PATH && req.method === 'POST') {
      const basic = /^basic /i.test(req.headers.authorization ?? '');
      stats[basic ? 'token_requests_basic' : 'token_requests_form'] += 1;
    }
    if (path === ISSUER_PATH || path.startsWith(`${ISSUER_PATH}/`)) {
      // Mounted under the issuer's path, as Express would mount it.
      req.originalUrl = req.url;
      req.url = req.url.slice(ISSUER_PATH.length) || '/';
      oidc(req, res);
    } else if (path.startsWith(`${API_PATH}/`)) {
      resource(req, res);
    } else if (path === '/interop/stats') {
      json(res, 200, stats);
    } else {
      json(res, 404, { error: 'not_found' });
    }
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // idle keep-alive sockets would hold it open
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.env.OIDC_EXIT_WITH_STDIN === '1') {
    // The test runner holds our stdin open: if it dies without stopping us,
    // the pipe closes and we go too, so no server outlives its tests.
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
  process.stdout.write(`${JSON.stringify({ url, issuer, api_url: apiUrl, token_ttl: TOKEN_TTL, client_id: CLIENT_ID })}\n`);
}

main().catch((err) => {
  process.stderr.write(`oidc-server failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
