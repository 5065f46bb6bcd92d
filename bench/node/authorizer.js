// The authorizer in Node.js (AWS SDK v3 + jsonwebtoken), doing what functions/authorizer does:
// parse `Authorization: Bearer <jwt>`, verify the HS256 JWT (alg pinned, kid, iss, aud, exp,
// nbf, iat with leeway, required claims: sub, username, jti and sid, the ids as 32 lower-case hex
// digits), then ONE strongly consistent BatchGetItem of the session item (`pk` = the token's
// `sid`) and the owner's revocation marker (`pk` = `user#<sub>`, missing = generation 0); allow
// only if the session exists, `expires_at` > now, `user_id` == sub and its generation >= the
// marker's. Answers {"isAuthorized", "context": {"user_id", "username", "jti", "sid"}}. Clients and
// keys built once: with JWT_SECRET_ARN (as deployed), the secret's AWSCURRENT, AWSPENDING and
// AWSPREVIOUS versions, each that exists, asked for at once (Promise.all); with JWT_SECRET, that
// one key.
"use strict";
const crypto = require("node:crypto");
const { DynamoDBClient, BatchGetItemCommand } = require("@aws-sdk/client-dynamodb");
const { SecretsManagerClient, GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager");
const jwt = require("jsonwebtoken");
const { run } = require("./runtime");

// kid -> secret, filled by loadKeys() before the first invocation.
const KEYS = new Map();

async function loadKeys() {
  const arn = process.env.JWT_SECRET_ARN;
  let secrets = [process.env.JWT_SECRET || ""];
  if (arn) {
    const sm = new SecretsManagerClient({});
    secrets = await Promise.all(["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"].map(async (stage) => {
      try {
        return (await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }))).SecretString;
      } catch (e) {
        if (stage !== "AWSCURRENT" && e.name === "ResourceNotFoundException") return null;
        throw e;
      }
    }));
  }
  for (const s of secrets.filter((s) => s !== null)) {
    const secret = Buffer.from(s.trim());
    if (secret.length < 32) throw new Error("JWT secret: must be at least 32 bytes");
    KEYS.set("hs256-" + crypto.createHash("sha256").update(secret).digest("hex").slice(0, 12), secret);
  }
}
const ISSUER = process.env.JWT_ISSUER || "jwt-session-service";
const AUDIENCE = process.env.JWT_AUDIENCE || "jwt-session-service";
const LEEWAY = Number(process.env.JWT_LEEWAY_SECONDS || 5);
const TABLE = process.env.SESSIONS_TABLE;
const TIMEOUT = Number(process.env.DYNAMODB_TIMEOUT_MS || 2000);
const ddb = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT_URL || undefined,
  maxAttempts: 2,
  requestHandler: { connectionTimeout: TIMEOUT / 2, requestTimeout: TIMEOUT / 2 },
});

const ID = /^[0-9a-f]{32}$/;
const USERNAME = /^[A-Za-z0-9._-]{3,32}$/;

function deny(reason) {
  console.log(JSON.stringify({ level: "INFO", outcome: "deny", reason }));
  return { isAuthorized: false, context: {} };
}

function bearer(value) {
  const v = value.replace(/^[ \t]+|[ \t]+$/g, "");
  const i = v.indexOf(" ");
  if (i < 0) return null;
  const scheme = v.slice(0, i), token = v.slice(i + 1);
  if (scheme.toLowerCase() !== "bearer" || !token) return null;
  if (!/^[\x21-\x7e]+$/.test(token) || token.includes(",")) return null;
  return token;
}

async function handler(event) {
  const header = (event.headers || {}).authorization || (event.identitySource || [])[0];
  if (!header) return deny("missing_header");
  const token = bearer(header);
  if (!token) return deny("bad_scheme");
  if (token.length > 8192) return deny("token_too_large");
  let claims;
  try {
    const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
    const secret = KEYS.get(header && header.kid);
    if (!secret) return deny("token_unknown_key");
    const decoded = jwt.verify(token, secret, {
      algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE, clockTolerance: LEEWAY, complete: true,
    });
    if (decoded.header.crit !== undefined) return deny("token_malformed");
    claims = decoded.payload;
  } catch (e) {
    return deny("token_" + e.name);
  }
  const now = Math.floor(Date.now() / 1000);
  const { sub, username, jti, sid, iat, exp, nbf } = claims;
  if (![sub, jti, sid].every((v) => typeof v === "string" && ID.test(v)) ||
      typeof username !== "string" || !USERNAME.test(username) ||
      ![iat, exp, nbf].every(Number.isInteger)) return deny("token_invalid_claims");
  if (iat > now + LEEWAY) return deny("token_not_yet_valid");
  const markerPk = "user#" + sub;
  const items = [];
  try {
    let keys = { Keys: [{ pk: { S: sid } }, { pk: { S: markerPk } }], ConsistentRead: true };
    for (let i = 0; ; i++) { // retry keys DynamoDB leaves unprocessed, as ours does
      if (i === 4) return deny("store_error");
      const out = await ddb.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: keys } }));
      items.push(...((out.Responses || {})[TABLE] || []));
      keys = (out.UnprocessedKeys || {})[TABLE];
      if (!keys || !keys.Keys || keys.Keys.length === 0) break;
    }
  } catch (e) {
    return deny("store_error");
  }
  const item = items.find((it) => it.pk && it.pk.S === sid);
  const marker = items.find((it) => it.pk && it.pk.S === markerPk);
  let context;
  try {
    const markerGen = marker ? Number(marker.generation.N) : 0;
    if (!item || Number(item.expires_at.N) <= now) return deny("no_session");
    if (item.user_id.S !== sub) return deny("wrong_owner");
    if (Number(item.generation.N) < markerGen) return deny("session_revoked");
    context = { user_id: item.user_id.S, username: item.username.S, jti, sid: item.pk.S };
  } catch (e) { // a malformed item is a store error, so a deny
    return deny("store_error");
  }
  console.log(JSON.stringify({ level: "INFO", outcome: "allow", user_id: context.user_id }));
  return { isAuthorized: true, context };
}

loadKeys().then(() => run(handler));
