"""Creates the two tables on the DynamoDB endpoint and seeds the sample identity that the token
in events/authorizer-valid.json and the context in events/me.json name (as
scripts/cargo-lambda-smoke does). Usage: seed.py ENDPOINT USERS_TABLE SESSIONS_TABLE

The sessions table is laid out as shared/auth/src/store/mod.rs describes it and template.yaml
declares it: partition key `pk`, keys-only index `by-user` on `user_id`. The sample session item
is keyed by the token's `sid`. No revocation marker (`user#<user id>`) is written: a missing
marker means generation 0, and every authorizer reads it anyway (one BatchGetItem of both).

It also creates the signing key's secret in Secrets Manager as a rotated secret has it: a first
version, then the sample key put over it, so that AWSCURRENT is the key that signed the sample
token and AWSPREVIOUS the one before (AWSPENDING exists only during a rotation). Prints the
secret's ARN: the deployed configuration's JWT_SECRET_ARN. Usage: seed.py ENDPOINT USERS_TABLE
SESSIONS_TABLE SAMPLE_SECRET"""
import sys

import boto3

endpoint, users, sessions, sample_secret = sys.argv[1:]
ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
ddb.create_table(TableName=users, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "username", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "username", "KeyType": "HASH"}])
ddb.create_table(TableName=sessions, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "user_id", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                 GlobalSecondaryIndexes=[{"IndexName": "by-user",
                                          "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
                                          "Projection": {"ProjectionType": "KEYS_ONLY"}}])
ddb.put_item(TableName=users, Item={
    "username": {"S": "sample-user"}, "user_id": {"S": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"},
    "password_hash": {"S": "$argon2id$v=19$m=19456,t=2,p=1$c2FtcGxlc2FsdA$c2FtcGxlaGFzaHNhbXBsZWhhc2hzYW1wbGVoYXNo"},
    "created_at": {"N": "1764374400"}})
ddb.put_item(TableName=sessions, Item={
    "pk": {"S": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
    "user_id": {"S": "5f1c0d3e9a8b47c6b2e1f0a9d8c7b6a5"}, "username": {"S": "sample-user"},
    "created_at_ms": {"N": "1764374400000"}, "last_used_at": {"N": "1764374400"},
    "expires_at": {"N": "4102444800"}, "generation": {"N": "0"},
    "user_agent": {"S": "curl/8.5.0"}, "source_ip": {"S": "203.0.113.7"}})
sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
arn = sm.create_secret(Name="bench-jwt-secret",
                       SecretString="the-key-before-the-last-rotation-0123456789abcdef")["ARN"]
sm.put_secret_value(SecretId=arn, SecretString=sample_secret)
stages = {v["VersionId"]: v["VersionStages"]
          for v in sm.list_secret_version_ids(SecretId=arn)["Versions"]}
assert sorted(s for v in stages.values() for s in v) == ["AWSCURRENT", "AWSPREVIOUS"], stages
print(arn)
