"""The Lambda Runtime API loop, as a custom runtime would run it: one persistent HTTP/1.1
connection to AWS_LAMBDA_RUNTIME_API, next -> handler -> response, forever."""
import http.client
import json
import os
import sys


def run(handler):
    host, _, port = os.environ["AWS_LAMBDA_RUNTIME_API"].partition(":")
    conn = http.client.HTTPConnection(host, int(port or 80))
    base = "/2018-06-01/runtime"
    while True:
        conn.request("GET", base + "/invocation/next")
        resp = conn.getresponse()
        event = json.loads(resp.read())
        request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        try:
            result = handler(event)
            path, body = f"{base}/invocation/{request_id}/response", json.dumps(result)
        except Exception as e:  # report as Lambda does, keep serving
            path = f"{base}/invocation/{request_id}/error"
            body = json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)})
            print(body, file=sys.stderr, flush=True)
        conn.request("POST", path, body=body.encode(),
                     headers={"Content-Type": "application/json"})
        conn.getresponse().read()
