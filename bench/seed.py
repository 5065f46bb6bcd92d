"""Creates the two tables on the DynamoDB endpoint and seeds the sample identity that the token
in events/authorizer-valid.json and the context in events/me.json name
(scripts/lib/sample_identity.py, as scripts/lambda-watch seeds them).

The sessions table is laid out as shared/auth/src/store/mod.rs describes it and template.yaml
declares it: partition key `pk`, keys-only index `by-user` on `user_id`. The sample session item
is keyed by the token's `sid`. No revocation marker (`user#<user id>`) is written: a missing
marker means generation 0, and every authorizer reads it anyway (one BatchGetItem of both).

It also creates the signing key's secret in Secrets Manager as a rotated secret has it: a first
version, then the sample key put over it, so that AWSCURRENT is the key that signed the sample
token and AWSPREVIOUS the one before (AWSPENDING exists only during a rotation). Prints the
secret's ARN: the deployed configuration's JWT_SECRET_ARN. Usage: seed.py ENDPOINT USERS_TABLE
SESSIONS_TABLE SAMPLE_SECRET PREVIOUS_SECRET"""
import pathlib
import sys

import boto3

# The tables and the sample identity, as scripts/lambda-watch seeds them.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "scripts" / "lib"))
import sample_identity  # noqa: E402

endpoint, users, sessions, sample_secret, previous_secret = sys.argv[1:]
ddb = sample_identity.client(endpoint)
sample_identity.create_tables(ddb, users, sessions)
sample_identity.seed(ddb, users, sessions)
sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
arn = sm.create_secret(Name="bench-jwt-secret",
                       SecretString=previous_secret)["ARN"]
sm.put_secret_value(SecretId=arn, SecretString=sample_secret)
stages = {v["VersionId"]: v["VersionStages"]
          for v in sm.list_secret_version_ids(SecretId=arn)["Versions"]}
assert sorted(s for v in stages.values() for s in v) == ["AWSCURRENT", "AWSPREVIOUS"], stages
print(arn)
