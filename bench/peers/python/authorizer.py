"""The authorizer in Python (boto3 + PyJWT), doing what functions/authorizer does: parse
`Authorization: Bearer <jwt>`, verify the HS256 JWT (alg pinned, kid, iss, aud, exp, nbf, iat
with leeway, required claims), one strongly consistent GetItem on the sessions table, check
expiry and owner, answer the simple response {"isAuthorized", "context"}. Client and key are
built once per cold start."""
import hashlib
import json
import os
import re
import time

import boto3
import jwt
from botocore.config import Config

from runtime import run

SECRET = os.environ["JWT_SECRET"].encode()
if len(SECRET) < 32:
    raise SystemExit("JWT_SECRET: must be at least 32 bytes")
KID = "hs256-" + hashlib.sha256(SECRET).hexdigest()[:12]
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
        if h.get("kid") != KID:
            return deny("token_unknown_key")
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE,
            leeway=LEEWAY, options={"require": ["exp", "nbf", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as e:
        return deny("token_" + type(e).__name__)
    now = int(time.time())
    sub, username, jti, iat = (claims.get(k) for k in ("sub", "username", "jti", "iat"))
    if not all(isinstance(v, str) and v for v in (sub, username, jti)) or not isinstance(iat, int):
        return deny("token_invalid_claims")
    if iat > now + LEEWAY:
        return deny("token_not_yet_valid")
    try:
        item = DDB.get_item(TableName=TABLE, Key={"jti": {"S": jti}},
                            ConsistentRead=True).get("Item")
    except Exception as e:  # every store failure is a deny
        return deny("store_error")
    if not item or int(item["expires_at"]["N"]) <= now:
        return deny("no_session")
    if item["user_id"]["S"] != sub:
        return deny("wrong_owner")
    context = {"user_id": item["user_id"]["S"], "username": item["username"]["S"],
               "jti": item["jti"]["S"]}
    print(json.dumps({"level": "INFO", "outcome": "allow", "user_id": context["user_id"]}),
          flush=True)
    return {"isAuthorized": True, "context": context}


if __name__ == "__main__":
    run(handler)
