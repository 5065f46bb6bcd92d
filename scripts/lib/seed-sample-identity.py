"""Creates the tables as template.yaml declares them and seeds the sample identity the files in
events/ name: its account (password "sample-user password"), its session and its refresh token.

    python seed-sample-identity.py ENDPOINT USERS_TABLE SESSIONS_TABLE ATTEMPTS_TABLE

Used by scripts/lambda-watch (and so by scripts/cargo-lambda-smoke); needs boto3 (moto's venv).
"""
import sys, boto3
endpoint, users, sessions, attempts = sys.argv[1:]
ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
for table, key in ((users, "username"), (attempts, "username")):
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
# As template.yaml declares it: key `pk`, keys-only index `by-user` on `user_id`.
ddb.create_table(TableName=sessions, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "user_id", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                 GlobalSecondaryIndexes=[{"IndexName": "by-user",
                                          "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
                                          "Projection": {"ProjectionType": "KEYS_ONLY"}}])
# The sample identity of events/me.json, events/logout.json, events/authorizer-valid.json,
# events/refresh.json, events/sessions.json, events/session-delete.json, events/logout-all.json.
ddb.put_item(TableName=users, Item={
    "username": {"S": "sample-user"}, "user_id": {"S": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"},
    "password_hash": {"S": "$argon2id$v=19$m=19456,t=2,p=1$yNCjuk0shgvCGjr6y7xxLA$ZnTshgCo8y2A/mOAwwVYJbP4HFkBdgcrFM5foPHZ1Zc"},
    "created_at": {"N": "1764374400"}})
ddb.put_item(TableName=sessions, Item={
    "pk": {"S": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
    "user_id": {"S": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"}, "username": {"S": "sample-user"},
    "created_at_ms": {"N": "1764374400000"}, "last_used_at": {"N": "1764374400"},
    "expires_at": {"N": "4102444800"}, "generation": {"N": "0"},
    "user_agent": {"S": "curl/8.5.0"}, "source_ip": {"S": "203.0.113.7"}})
# The refresh token of events/refresh.json, stored as its SHA-256 only.
import hashlib
token = "c2FtcGxlLXJlZnJlc2gtdG9rZW4tZm9yLWV2ZW50cyE"
ddb.put_item(TableName=sessions, Item={
    "pk": {"S": "refresh#" + hashlib.sha256(token.encode()).hexdigest()},
    "sid": {"S": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
    "owner": {"S": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"}, "expires_at": {"N": "4102444800"}})
