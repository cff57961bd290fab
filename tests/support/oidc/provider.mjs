// A real OpenID Provider for banso's single sign-on tests: the certified `oidc-provider` package,
// one confidential client, three test people and a scripted login the tests POST to.
//
//   node provider.mjs   with   PORT, REDIRECT_URIS (comma-separated), CLIENT_ID, CLIENT_SECRET,
//                              ID_TOKEN_TTL (seconds, default 60)
//
// Listens on 127.0.0.1 only and prints "ready <issuer>" once it accepts requests.
// Login: GET /interaction/<uid> answers JSON {uid, prompt}; POST /interaction/<uid>/login with
// form fields `account` (alice | bob | carol) and optionally `amr` (comma-separated, "" for none)
// and `acr` overrides the account's defaults. Consent is granted automatically (first-party client).
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID || 'banso';
const clientSecret = process.env.CLIENT_SECRET || 'banso-test-client-secret-0123456789';
const redirectUris = (process.env.REDIRECT_URIS || 'http://testserver/login/sso/callback').split(',');
const idTokenTtl = Number(process.env.ID_TOKEN_TTL || 60);

// The people this provider knows. bob's address is NOT verified: banso must never link by it.
const ACCOUNTS = {
  alice: { email: 'alice.sso@example.jp', email_verified: true, name: 'Alice SSO', amr: ['pwd'] },
  bob: { email: 'bob.sso@example.jp', email_verified: false, name: 'Bob SSO', amr: ['pwd'] },
  carol: { email: 'carol.sso@example.jp', email_verified: true, name: 'Carol SSO', amr: ['pwd', 'otp'] },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['banso-test-cookie-key-0123456789'] },
  // amr and acr ride with the openid scope, so every ID token carries them (as GビズID and most
  // enterprise providers do) without the claims request parameter.
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time', 'sid'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  acrValues: ['urn:banso:test:loa1', 'urn:banso:test:loa2'],
  // PKCE is NOT required by this provider (many real ones do not require it either): the tests
  // prove that banso itself binds each code to its verifier, so a code intercepted on its way
  // back cannot be redeemed without the verifier only banso holds.
  pkce: { required: () => false },
  features: { devInteractions: { enabled: false } },
  ttl: { IdToken: idTokenTtl },
  async findAccount(_ctx, id) {
    const person = ACCOUNTS[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: person.email, email_verified: person.email_verified, name: person.name };
      },
    };
  },
  // First-party test client: grant the requested scopes and claims without a consent screen.
  async loadExistingGrant(ctx) {
    const { client, session, params } = ctx.oidc;
    const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(String(params.scope || 'openid'));
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'amr', 'acr']);
    await grant.save();
    return grant;
  },
});

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET' && !match[2]) {
    ctx.body = { uid: details.uid, prompt: details.prompt.name };
    return undefined;
  }
  if (ctx.method === 'POST' && match[2]) {
    const form = await formBody(ctx.req);
    const accountId = form.get('account') || '';
    const person = ACCOUNTS[accountId];
    if (!person) {
      ctx.status = 400;
      ctx.body = { error: `unknown account ${accountId}` };
      return undefined;
    }
    const amr = form.has('amr') ? form.get('amr').split(',').filter(Boolean) : person.amr;
    const login = { accountId, ...(amr.length ? { amr } : {}) };
    if (form.get('acr')) login.acr = form.get('acr');
    const target = await provider.interactionResult(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(target);
    return undefined;
  }
  ctx.status = 405;
  return undefined;
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
