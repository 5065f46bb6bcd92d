"""The authorizer in Python (boto3 + PyJWT), doing what functions/authorizer does: parse
`Authorization: Bearer <jwt>`, verify the HS256 JWT (alg pinned, kid, iss, aud, exp, nbf, iat
with leeway, required claims: sub, username, jti and sid, the ids as 32 lower-case hex digits),
then ONE strongly consistent BatchGetItem of the session item (`pk` = the token's `sid`) and
the owner's revocation marker (`pk` = `user#<sub>`, missing = generation 0); allow only if the
session exists, `expires_at` > now, `user_id` == sub and its generation >= the marker's. Answers
the simple response {"isAuthorized", "context": {"user_id", "username", "jti", "sid"}}. Client
and keys are built once per cold start: with JWT_SECRET_ARN (as deployed) the keys are the
secret's AWSCURRENT, AWSPENDING and AWSPREVIOUS versions, each that exists, read from Secrets
Manager with boto3 one after another, as a Python function usually does; with JWT_SECRET, that
one key."""
import hashlib
import json
import os
import re
import time

import boto3
import jwt
from botocore.config import Config

from runtime import run


def load_keys():
    """kid -> secret: the inline key, or the secret's versions in Secrets Manager."""
    arn = os.environ.get("JWT_SECRET_ARN")
    if not arn:
        secrets = [os.environ["JWT_SECRET"]]
    else:
        sm = boto3.client("secretsmanager")
        secrets = []
        for stage in ("AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"):
            try:
                secrets.append(sm.get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"])
            except sm.exceptions.ResourceNotFoundException:
                if stage == "AWSCURRENT":
                    raise
    keys = {}
    for secret in secrets:
        secret = secret.strip().encode()
        if len(secret) < 32:
            raise SystemExit("JWT secret: must be at least 32 bytes")
        keys["hs256-" + hashlib.sha256(secret).hexdigest()[:12]] = secret
    return keys


KEYS = load_keys()
ISSUER = os.environ.get("JWT_ISSUER") or "jwt-session-service"
AUDIENCE = os.environ.get("JWT_AUDIENCE") or "jwt-session-service"
LEEWAY = int(os.environ.get("JWT_LEEWAY_SECONDS") or 5)
TABLE = os.environ["SESSIONS_TABLE"]
TIMEOUT = int(os.environ.get("DYNAMODB_TIMEOUT_MS") or 2000) / 1000
DDB = boto3.client(
    "dynamodb",
    endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL"),
    config=Config(connect_timeout=TIMEOUT / 2, read_timeout=TIMEOUT / 2,
                  retries={"max_attempts": 2, "mode": "standard"}),
)
TOKEN_CHARS = re.compile(r"^[\x21-\x7e]+$")
ID = re.compile(r"^[0-9a-f]{32}$")
USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,32}$")


def deny(reason):
    print(json.dumps({"level": "INFO", "outcome": "deny", "reason": reason}), flush=True)
    return {"isAuthorized": False, "context": {}}


def bearer(value):
    value = value.strip(" \t")
    scheme, sep, token = value.partition(" ")
    if not sep or scheme.lower() != "bearer" or not token:
        return None
    if "," in token or not TOKEN_CHARS.match(token):
        return None
    return token


def handler(event):
    headers = event.get("headers") or {}
    header = headers.get("authorization") or (event.get("identitySource") or [None])[0]
    if not header:
        return deny("missing_header")
    token = bearer(header)
    if token is None:
        return deny("bad_scheme")
    if len(token) > 8192:
        return deny("token_too_large")
    try:
        h = jwt.get_unverified_header(token)
        if h.get("alg") != "HS256" or "crit" in h:
            return deny("token_wrong_algorithm")
        secret = KEYS.get(h.get("kid"))
        if secret is None:
            return deny("token_unknown_key")
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE,
            leeway=LEEWAY, options={"require": ["exp", "nbf", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as e:
        return deny("token_" + type(e).__name__)
    now = int(time.time())
    sub, username, jti, sid, iat = (claims.get(k) for k in ("sub", "username", "jti", "sid", "iat"))
    if not all(isinstance(v, str) and ID.match(v) for v in (sub, jti, sid)) \
            or not isinstance(username, str) or not USERNAME.match(username) \
            or not isinstance(iat, int):
        return deny("token_invalid_claims")
    if iat > now + LEEWAY:
        return deny("token_not_yet_valid")
    marker_pk = "user#" + sub
    try:
        keys = {"Keys": [{"pk": {"S": sid}}, {"pk": {"S": marker_pk}}], "ConsistentRead": True}
        items = []
        for _ in range(4):  # retry keys DynamoDB leaves unprocessed, as ours does
            out = DDB.batch_get_item(RequestItems={TABLE: keys})
            items += out.get("Responses", {}).get(TABLE, [])
            keys = out.get("UnprocessedKeys", {}).get(TABLE)
            if not keys or not keys.get("Keys"):
                break
        else:
            return deny("store_error")
    except Exception:  # every store failure is a deny
        return deny("store_error")
    by_pk = {item["pk"]["S"]: item for item in items}
    item, marker = by_pk.get(sid), by_pk.get(marker_pk)
    try:
        marker_gen = int(marker["generation"]["N"]) if marker else 0
        if not item or int(item["expires_at"]["N"]) <= now:
            return deny("no_session")
        if item["user_id"]["S"] != sub:
            return deny("wrong_owner")
        if int(item["generation"]["N"]) < marker_gen:
            return deny("session_revoked")
        context = {"user_id": item["user_id"]["S"], "username": item["username"]["S"],
                   "jti": jti, "sid": item["pk"]["S"]}
    except (KeyError, ValueError):  # a malformed item is a store error, so a deny
        return deny("store_error")
    print(json.dumps({"level": "INFO", "outcome": "allow", "user_id": context["user_id"]}),
          flush=True)
    return {"isAuthorized": True, "context": context}


if __name__ == "__main__":
    run(handler)
