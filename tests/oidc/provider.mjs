#!/usr/bin/env node
// Local OpenID Connect provider for the integration tests (oidc-provider 9.x).
//
//   node tests/oidc/provider.mjs --port P --issuer http://127.0.0.1:P \
//     [--client-id ID] [--client-secret S] [--redirect-uri URI]... \
//     [--post-logout-redirect-uri URI]... [--issuer-claim X] [--sso]
//     [--claims-from-userinfo] [--userinfo-sub SUB]
//
// Listens on 127.0.0.1 only. Prints exactly one line, `ready <issuer>`, on stdout once
// it accepts connections; everything else goes to stderr. Exits on SIGTERM/SIGINT, and
// by itself when the process that started it goes away. See README.md beside this file.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider prints its notices with console.info (stdout): keep stdout for `ready`.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

if (typeof URL.parse !== 'function' || typeof crypto.hash !== 'function') {
  console.error(`provider.mjs: Node.js ${process.version} is too old for oidc-provider 9 (needs >= 20.18)`);
  process.exit(2);
}

const { default: Provider, interactionPolicy } = await import('oidc-provider');

// ---------------------------------------------------------------- arguments

const USAGE = `usage: node provider.mjs [--port P] [--issuer URL] [--issuer-claim X]
       [--client-id ID] [--client-secret S] [--redirect-uri URI]...
       [--post-logout-redirect-uri URI]... [--sso]
       [--claims-from-userinfo] [--userinfo-sub SUB]`;

function parseArgs(argv) {
  const opts = {
    port: 0,
    issuer: undefined,
    issuerClaim: undefined,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    redirectUris: [],
    postLogoutRedirectUris: [],
    sso: false,
    claimsFromUserinfo: false,
    userinfoSub: undefined,
  };
  const single = {
    '--port': 'port',
    '--issuer': 'issuer',
    '--issuer-claim': 'issuerClaim',
    '--client-id': 'clientId',
    '--client-secret': 'clientSecret',
    '--userinfo-sub': 'userinfoSub',
  };
  const multi = {
    '--redirect-uri': 'redirectUris',
    '--post-logout-redirect-uri': 'postLogoutRedirectUris',
  };
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg === '--sso') {
      opts.sso = true;
      continue;
    }
    if (arg === '--claims-from-userinfo') {
      opts.claimsFromUserinfo = true;
      continue;
    }
    const key = single[arg] || multi[arg];
    if (!key) {
      throw new Error(`unknown argument ${arg}`);
    }
    if (value === undefined) {
      i += 1;
      if (i >= argv.length) throw new Error(`${arg} needs a value`);
      value = argv[i];
    }
    if (multi[arg]) opts[key].push(value);
    else opts[key] = value;
  }
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer 0..65535, got ${opts.port}`);
  }
  opts.port = port;
  if (opts.redirectUris.length === 0) {
    opts.redirectUris.push('http://127.0.0.1:8080/auth/oidc/callback');
  }
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`provider.mjs: ${err.message}\n${USAGE}`);
  process.exit(2);
}

// ---------------------------------------------------------------- accounts
// Any login name is an account. accountId (= `sub`) is `sub-<login>`, so the login can be
// recovered from the id without keeping state.

const SUB_PREFIX = 'sub-';

function claimsFor(login) {
  return {
    sub: `${SUB_PREFIX}${login}`,
    email: login.includes('@') ? login : `${login}@example.com`,
    email_verified: !login.startsWith('unverified'),
    name: login,
  };
}

async function findAccount(ctx, id) {
  if (typeof id !== 'string' || !id.startsWith(SUB_PREFIX) || id.length === SUB_PREFIX.length) {
    return undefined;
  }
  const login = id.slice(SUB_PREFIX.length);
  return {
    accountId: id,
    async claims() {
      return claimsFor(login);
    },
  };
}

// ---------------------------------------------------------------- helpers

const htmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head>
<body>
${body}
</body>
</html>
`;
}

function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function generateJwks() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `test-rs256-${crypto.randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }] };
}

// ---------------------------------------------------------------- server

// Listen first (port 0 picks a free one), then build the Provider with the final issuer.
let handler = (req, res) => { res.statusCode = 503; res.end(); };
const server = http.createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(opts.port, '127.0.0.1', resolve);
});
const { port } = server.address();

const issuerUrl = URL.parse(opts.issuer ?? `http://127.0.0.1:${port}`);
if (!issuerUrl || !['http:', 'https:'].includes(issuerUrl.protocol) || issuerUrl.search || issuerUrl.hash) {
  console.error(`provider.mjs: --issuer must be an http(s) URL without query or fragment, got ${opts.issuer}`);
  process.exit(2);
}
// `--port 0 --issuer http://127.0.0.1:0/some/path`: put the port actually chosen in.
if (issuerUrl.port === '0') issuerUrl.port = String(port);
const issuer = issuerUrl.href.replace(/\/+$/, '');
// Path part of the issuer (e.g. `/realms/test`): the provider is served under it.
const prefix = issuerUrl.pathname.replace(/\/+$/, '');
const claimedIssuer = opts.issuerClaim ?? issuer;

const policy = interactionPolicy.base();
if (!opts.sso) {
  // Always show the login form, so every authorization request picks its account. An
  // already signed-in session is ignored (prompt=none therefore answers login_required).
  policy.get('login').checks.push(new interactionPolicy.Check(
    'always_login',
    'the test provider asks for an account on every authorization request',
    'login_required',
    (ctx) => (ctx.oidc.result?.login
      ? interactionPolicy.Check.NO_NEED_TO_PROMPT
      : interactionPolicy.Check.REQUEST_PROMPT),
  ));
}

const provider = new Provider(claimedIssuer, {
  clients: [{
    client_id: opts.clientId,
    client_secret: opts.clientSecret,
    redirect_uris: opts.redirectUris,
    ...(opts.postLogoutRedirectUris.length
      ? { post_logout_redirect_uris: opts.postLogoutRedirectUris } : {}),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too
    id_token_signed_response_alg: 'RS256',
  }],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  responseTypes: ['code'],
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // By default the scope-granted claims (email, name) go into the ID token too, not only /me.
  // --claims-from-userinfo keeps oidc-provider's own default (like Okta with an access token):
  // the ID token of the code flow carries `sub` and no email, email_verified or name.
  conformIdTokenClaims: opts.claimsFromUserinfo,
  findAccount,
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    Grant: 3600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 3600,
  },
  jwks: generateJwks(),
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 accepts
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    long: { httpOnly: true, sameSite: 'lax', secure: false },
    short: { httpOnly: true, sameSite: 'lax', secure: false },
  },
  features: {
    devInteractions: { enabled: false },
  },
  interactions: {
    policy,
    url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}`,
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('error', `<h1>error</h1>\n${Object.entries(out)
      .map(([k, v]) => `<p id="${htmlEscape(k)}"><b>${htmlEscape(k)}</b>: ${htmlEscape(v)}</p>`)
      .join('\n')}`);
  },
});

// --userinfo-sub (a test-only fault): /me answers about another `sub` than the ID token's.
if (opts.userinfoSub !== undefined) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'userinfo' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = { ...ctx.body, sub: opts.userinfoSub };
    }
  });
}

provider.on('server_error', (ctx, err) => console.error('provider server_error:', err));
provider.on('grant.error', (ctx, err) => console.error(`provider grant.error: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`));

// ---------------------------------------------------------------- interaction (login form)

function loginForm(action, uid, { loginHint = '', clientId = '', scope = '', error } = {}) {
  return page('Sign in', `<h1>Sign in to the test provider</h1>
<p>Client <code id="client-id">${htmlEscape(clientId)}</code> asks for <code id="scope">${htmlEscape(scope)}</code>.
Any login name is accepted.</p>
${error ? `<p id="error">${htmlEscape(error)}</p>\n` : ''}<form id="login-form" method="post" action="${htmlEscape(action)}">
<input type="hidden" name="uid" value="${htmlEscape(uid)}">
<label for="login">Login</label>
<input type="text" name="login" id="login" value="${htmlEscape(loginHint)}" autofocus>
<button type="submit" id="submit" name="action" value="login">Sign in</button>
<button type="submit" id="deny" name="action" value="deny">Deny</button>
</form>`);
}

async function interaction(req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    // Missing/expired interaction cookie, unknown uid, ...
    return sendHtml(res, 400, page('error', `<h1>error</h1><p id="error">${htmlEscape(err.error ?? 'error')}: ${htmlEscape(err.error_description ?? err.message)}</p>`));
  }
  if (details.uid !== uid) {
    return sendHtml(res, 400, page('error', '<h1>error</h1><p id="error">interaction cookie does not match this URL</p>'));
  }
  const { params } = details;
  const action = `http://${req.headers.host}${prefix}/interaction/${uid}`;
  const formOpts = {
    loginHint: params.login_hint ?? '',
    clientId: params.client_id,
    scope: params.scope,
  };

  if (req.method === 'GET' || req.method === 'HEAD') {
    return sendHtml(res, 200, loginForm(action, uid, formOpts));
  }
  if (req.method !== 'POST') {
    res.statusCode = 405;
    res.setHeader('Allow', 'GET, POST');
    return res.end();
  }

  const form = await readForm(req);
  if (form.get('action') === 'deny') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User denied the sign-in',
    }, { mergeWithLastSubmission: false });
  }

  const login = (form.get('login') ?? '').trim();
  if (!login || login.length > 200) {
    return sendHtml(res, 400, loginForm(action, uid, { ...formOpts, error: 'login must be 1..200 characters' }));
  }
  const accountId = `${SUB_PREFIX}${login}`;

  // Switching account inside a browser that is signed in as someone else: drop the old
  // session here, or oidc-provider would first show its (script-driven) logout page.
  if (details.session?.accountId && details.session.accountId !== accountId) {
    const old = details.session.uid && await provider.Session.findByUid(details.session.uid);
    if (old) await old.destroy();
    details.session = undefined;
    await details.save(details.exp - Math.floor(Date.now() / 1000));
  }

  // Login and consent in one step: grant every requested scope and claim.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : undefined;
  const useGrant = grant && grant.accountId === accountId ? grant : new provider.Grant({
    accountId,
    clientId: params.client_id,
  });
  if (params.scope) useGrant.addOIDCScope(params.scope);
  if (params.claims) {
    try {
      const requested = JSON.parse(params.claims);
      for (const part of ['id_token', 'userinfo']) {
        if (requested?.[part]) useGrant.addOIDCClaims(Object.keys(requested[part]));
      }
    } catch { /* invalid claims parameter was already rejected at /auth */ }
  }
  const grantId = await useGrant.save();

  return provider.interactionFinished(req, res, {
    login: { accountId },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------- routing

const providerCallback = provider.callback();
const interactionPath = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/;

handler = async (req, res) => {
  try {
    const original = req.url;
    const path = original.split('?')[0];
    if (prefix) {
      if (path !== prefix && !path.startsWith(`${prefix}/`)) {
        res.statusCode = 404;
        return res.end();
      }
      // Mounted like express does it: oidc-provider derives its mount path from this.
      req.originalUrl = original;
      req.url = original.slice(prefix.length) || '/';
    }
    const m = interactionPath.exec(req.url.split('?')[0]);
    if (m) {
      if (prefix) req.url = original; // interactionDetails does not need the rewrite
      return await interaction(req, res, m[1]);
    }
    return await providerCallback(req, res);
  } catch (err) {
    console.error('provider.mjs: request failed:', err);
    if (!res.headersSent) {
      res.statusCode = 500;
      res.end('internal error');
    } else {
      res.destroy();
    }
  }
};

// ---------------------------------------------------------------- lifecycle

function shutdown(signal) {
  console.error(`provider.mjs: ${signal}, exiting`);
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// Do not outlive the test process that started us (e.g. when it panicked or was killed).
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) shutdown('parent exited');
}, 1000).unref();

console.error(`provider.mjs: listening on http://127.0.0.1:${port}${prefix}, issuer claim ${claimedIssuer}, client ${opts.clientId}, redirect_uris ${opts.redirectUris.join(' ')}${opts.sso ? ', sso' : ''}${opts.claimsFromUserinfo ? ', claims from userinfo only' : ''}${opts.userinfoSub !== undefined ? `, userinfo sub ${opts.userinfoSub}` : ''}`);
process.stdout.write(`ready ${issuer}\n`);
