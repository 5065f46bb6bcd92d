//! The Lambda Runtime API client of the event functions (the authorizer, through
//! [`crate::runner::run_events`]): ask for the next invocation, answer it, or report its error
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>).
//!
//! Hand-written, for a measured reason. In the authorizer's warm invocation `lambda_runtime`
//! and its hyper-util client took about a quarter of the process's user-space instructions
//! outside the handler (callgrind: 59k of 336k in `process_invocation` around the handler, and
//! the Runtime API connection's own task besides), and every answer went through a spawned
//! connection task and a tokio wake-up. The Runtime API is a local peer with a small, fixed
//! protocol, and a function answers one invocation at a time, so this client talks to it over
//! one blocking kept-alive socket: one write per request and, for an answer that fits in the
//! read buffer, one read; no task, no pool, no timer. bench/NOTES.md has the numbers before and after. The HTTP functions keep
//! `lambda_runtime` with `lambda_http`'s API Gateway conversion.
//!
//! Layout: this file sends the requests and keeps the connection; [`http1`] reads an answer (a
//! status line and headers parsed by `httparse`, as hyper does, then a body by
//! `content-length`, `chunked` or the connection's end); `fake` is a scripted Runtime API for
//! tests. A connection the peer says it closes (`connection: close`) is opened again for the
//! next request. A connection that ends without answering is an error, and the function ends
//! (Lambda starts another): the Runtime API does not drop its runtime's connection, and a
//! process that has been replaced (a harness's wrapper killed without it) must end rather than
//! take the next invocation on a new connection. (hyper-util's pool, under `lambda_runtime`,
//! would send a request that never left again on a new connection.) So does a `5xx` answer,
//! which the Runtime API documents as a state the runtime should exit from. There are no
//! timeouts: asking for the next invocation waits until there is one, as Lambda intends, and
//! the Runtime API answers the rest at once.
//!
//! The invocation's id goes into the answer's path, so it must be a plain path segment (letters,
//! digits, `-`, `_`, `.`; Lambda's are UUIDs); header values taken from the invocation or the
//! function (the invocation id, the error type) are made header-safe.

use std::io::{self, Write as _};
use std::net::TcpStream;

use http1::{Failure, Input};

mod http1;

/// The Runtime API's paths, after the address's own path if it has one.
const API_PATH: &str = "/2018-06-01/runtime";

/// One invocation, as the Runtime API hands it over.
#[derive(Default, Clone, PartialEq)]
pub struct Invocation {
    /// `lambda-runtime-aws-request-id`: the id to answer under (and the `RequestId` of Lambda's
    /// `START` and `REPORT` lines).
    pub request_id: String,
    /// `lambda-runtime-deadline-ms`: when the invocation times out, in ms since the epoch.
    pub deadline_ms: Option<u64>,
    /// `lambda-runtime-trace-id`: the X-Ray trace id, when there is one.
    pub xray_trace_id: Option<String>,
    /// `lambda-runtime-aws-tenant-id`: the tenant, for a function with tenant isolation.
    pub tenant_id: Option<String>,
    /// `lambda-runtime-invocation-id`, echoed on the answer when present.
    pub invocation_id: Option<String>,
    /// The event: the body, JSON as Lambda sends it.
    pub event: Vec<u8>,
}

/// Why talking to the Runtime API failed. Any of them ends the function: Lambda then starts a
/// new one.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    /// The variable naming the Runtime API is not set.
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not set: this binary runs inside Lambda (or `cargo lambda \
         watch`); to serve the API on this machine run `cargo run`"
    )]
    NotSet,
    /// The variable does not name an address this client can reach.
    #[error(
        "AWS_LAMBDA_RUNTIME_API is {0:?}, which is neither host:port nor an http:// URL: Lambda \
         sets it; leave it as Lambda (or `cargo lambda watch`) set it"
    )]
    Address(String),
    /// The socket failed.
    #[error("could not talk to the Lambda Runtime API at {host}")]
    Io {
        /// The Runtime API's `host:port`.
        host: String,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// The Runtime API refused to give the next invocation, or answered an invocation's
    /// answer with a `5xx` (a state its documentation says the runtime should exit from).
    #[error("the Lambda Runtime API answered {status} to {request}")]
    Status {
        /// The answer's status code.
        status: u16,
        /// What it answered, e.g. `the request for the next invocation`.
        request: &'static str,
    },
    /// The answer is not HTTP/1.1 as this client reads it, or lacks what the protocol promises.
    #[error("the Lambda Runtime API's answer could not be read: {0}")]
    Malformed(&'static str),
}

/// A connection to the Runtime API, kept between invocations.
#[derive(Debug)]
pub struct RuntimeApi {
    /// `host:port`.
    host: String,
    /// The address's path and [`API_PATH`], e.g. `/2018-06-01/runtime`.
    base: String,
    /// The path that gives the next invocation.
    next: String,
    stream: Option<TcpStream>,
    /// The request being sent; kept to reuse its memory.
    out: Vec<u8>,
    /// What has been read of the answer; kept to reuse its memory.
    input: Input,
}

impl RuntimeApi {
    /// The Runtime API named by `AWS_LAMBDA_RUNTIME_API`, which Lambda sets to `host:port`
    /// (`cargo lambda watch` sets an `http://` URL with a path); connects on first use.
    pub fn from_env() -> Result<Self, RuntimeApiError> {
        match std::env::var("AWS_LAMBDA_RUNTIME_API") {
            Ok(address) if !address.is_empty() => Self::new(&address),
            _ => Err(RuntimeApiError::NotSet),
        }
    }

    /// The Runtime API at `address`: `host:port`, or an `http://` URL whose path prefixes the
    /// Runtime API's paths; connects on first use.
    pub fn new(address: &str) -> Result<Self, RuntimeApiError> {
        let rest = match address.split_once("://") {
            None => address,
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(RuntimeApiError::Address(address.to_owned())),
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let path = path.trim_end_matches('/');
        if host.is_empty()
            || host.bytes().any(|b| !b.is_ascii_graphic() || b == b'@')
            || path
                .bytes()
                .any(|b| !b.is_ascii_graphic() || b == b'?' || b == b'#')
        {
            return Err(RuntimeApiError::Address(address.to_owned()));
        }
        let base = if path.is_empty() {
            API_PATH.to_owned()
        } else {
            format!("/{path}{API_PATH}")
        };
        Ok(Self {
            next: format!("{base}/invocation/next"),
            host: host.to_owned(),
            base,
            stream: None,
            out: Vec::with_capacity(1024),
            input: Input::new(),
        })
    }

    /// Waits for the next invocation and returns it.
    pub fn next_invocation(&mut self) -> Result<Invocation, RuntimeApiError> {
        self.out.clear();
        let next = std::mem::take(&mut self.next);
        self.head("GET", &next, &[]);
        self.next = next;
        self.out.extend_from_slice(b"\r\n");
        let mut invocation = Invocation::default();
        let (head, body) = self.exchange(Some(&mut invocation))?;
        if !(200..300).contains(&head.status) {
            return Err(RuntimeApiError::Status {
                status: head.status,
                request: "the request for the next invocation",
            });
        }
        if invocation.request_id.is_empty() {
            return Err(RuntimeApiError::Malformed(
                "the invocation has no lambda-runtime-aws-request-id",
            ));
        }
        invocation.event = body;
        Ok(invocation)
    }

    /// Answers `invocation` with `response` (JSON). Returns the Runtime API's status: a `4xx`
    /// (`403`: the invocation is no longer open, e.g. it timed out; `413`: the answer is too
    /// large) is the caller's to log, and the function goes on with the next invocation; a
    /// `5xx` is [`RuntimeApiError::Status`].
    pub fn respond(
        &mut self,
        invocation: &Invocation,
        response: &[u8],
    ) -> Result<u16, RuntimeApiError> {
        self.answer(invocation, "response", &[], response)
    }

    /// Reports `invocation` as failed with `error_type` and `message` (Lambda's
    /// `errorType` / `errorMessage`). Returns the Runtime API's status, as [`Self::respond`].
    pub fn fail(
        &mut self,
        invocation: &Invocation,
        error_type: &str,
        message: &str,
    ) -> Result<u16, RuntimeApiError> {
        let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
        let body = serde_json::to_vec(&body).map_err(|_| {
            RuntimeApiError::Malformed("an error report could not be written as JSON")
        })?;
        let error_type = header_safe(error_type);
        self.answer(
            invocation,
            "error",
            &[("lambda-runtime-function-error-type", &error_type)],
            &body,
        )
    }

    fn answer(
        &mut self,
        invocation: &Invocation,
        kind: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<u16, RuntimeApiError> {
        self.out.clear();
        let path = format!("{}/invocation/{}/{kind}", self.base, invocation.request_id);
        self.head("POST", &path, headers);
        if let Some(id) = &invocation.invocation_id {
            self.header("lambda-runtime-invocation-id", id);
        }
        self.header("content-type", "application/json");
        self.header("content-length", &body.len().to_string());
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
        let (head, _) = self.exchange(None)?;
        if head.status >= 500 {
            return Err(RuntimeApiError::Status {
                status: head.status,
                request: if kind == "error" {
                    "an invocation's error report"
                } else {
                    "an invocation's answer"
                },
            });
        }
        Ok(head.status)
    }

    /// Starts a request in `out`: the request line, `host`, and `headers`.
    fn head(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) {
        for part in [method, " ", path, " HTTP/1.1\r\n"] {
            self.out.extend_from_slice(part.as_bytes());
        }
        let host = std::mem::take(&mut self.host);
        self.header("host", &host);
        self.host = host;
        for (name, value) in headers {
            self.header(name, value);
        }
    }

    fn header(&mut self, name: &str, value: &str) {
        for part in [name, ": ", value, "\r\n"] {
            self.out.extend_from_slice(part.as_bytes());
        }
    }

    /// Sends `out` and reads the answer, on the kept connection or a new one.
    fn exchange(
        &mut self,
        invocation: Option<&mut Invocation>,
    ) -> Result<(http1::Head, Vec<u8>), RuntimeApiError> {
        self.try_exchange(invocation).map_err(|failure| {
            self.stream = None;
            match failure {
                Failure::Io(source) => RuntimeApiError::Io {
                    host: self.host.clone(),
                    source,
                },
                Failure::Malformed(what) => RuntimeApiError::Malformed(what),
            }
        })
    }

    fn try_exchange(
        &mut self,
        mut invocation: Option<&mut Invocation>,
    ) -> Result<(http1::Head, Vec<u8>), Failure> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.host).map_err(Failure::Io)?;
            stream.set_nodelay(true).map_err(Failure::Io)?;
            self.stream = Some(stream);
        }
        let Self {
            stream: Some(stream),
            out,
            input,
            ..
        } = self
        else {
            unreachable!("connected above");
        };
        stream.write_all(out).map_err(Failure::Io)?;
        let (head, body) = http1::read_answer(stream, input, |name, value| {
            match invocation.as_deref_mut() {
                Some(invocation) => invocation.take_header(name, value),
                None => Ok(()),
            }
        })?;
        if head.close {
            self.stream = None;
        }
        Ok((head, body))
    }
}

/// Shows the event's size, not the event: it carries the caller's token.
impl std::fmt::Debug for Invocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("request_id", &self.request_id)
            .field("deadline_ms", &self.deadline_ms)
            .field("xray_trace_id", &self.xray_trace_id)
            .field("tenant_id", &self.tenant_id)
            .field("invocation_id", &self.invocation_id)
            .field("event_bytes", &self.event.len())
            .finish()
    }
}

impl Invocation {
    /// Keeps what the answer to `next` says of the invocation in its headers.
    fn take_header(&mut self, name: &str, value: &[u8]) -> Result<(), Failure> {
        let text = || {
            std::str::from_utf8(value)
                .map(str::trim)
                .map_err(|_| Failure::Malformed("a header is not UTF-8"))
        };
        if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
            let id = text()?;
            let segment = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
            if id.is_empty() || id == "." || id == ".." || !id.bytes().all(segment) {
                return Err(Failure::Malformed(
                    "lambda-runtime-aws-request-id is not a path segment",
                ));
            }
            self.request_id = id.to_owned();
        } else if name.eq_ignore_ascii_case("lambda-runtime-deadline-ms") {
            self.deadline_ms = text()?.parse().ok();
        } else if name.eq_ignore_ascii_case("lambda-runtime-trace-id") {
            self.xray_trace_id = Some(text()?.to_owned());
        } else if name.eq_ignore_ascii_case("lambda-runtime-aws-tenant-id") {
            self.tenant_id = Some(text()?.to_owned());
        } else if name.eq_ignore_ascii_case("lambda-runtime-invocation-id") {
            self.invocation_id = Some(header_safe(text()?));
        }
        Ok(())
    }
}

/// `value` with anything that cannot stand in a header value (control characters, non-ASCII)
/// replaced by `?`.
fn header_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::fake::{Answer, runtime_api};
    use super::http1::{MAX_KEPT_BYTES, READ_CHUNK};
    use super::*;

    #[test]
    fn an_invocation_is_read_and_answered_on_one_kept_connection() {
        let next = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
            Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n\
            Lambda-Runtime-Deadline-Ms: 1542409706888\r\n\
            Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1\r\n\
            Lambda-Runtime-Aws-Tenant-Id: tenant-a\r\n\
            Lambda-Runtime-Invocation-Id: inv-1\r\n\
            Content-Length: 13\r\n\r\n{\"event\":\"a\"}";
        let (host, server) = runtime_api(vec![Answer::raw(next), Answer::accepted()]);
        let mut api = RuntimeApi::new(&host).unwrap();

        let invocation = api.next_invocation().unwrap();
        assert_eq!(
            invocation,
            Invocation {
                request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".into(),
                deadline_ms: Some(1542409706888),
                xray_trace_id: Some("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1".into()),
                tenant_id: Some("tenant-a".into()),
                invocation_id: Some("inv-1".into()),
                event: br#"{"event":"a"}"#.to_vec(),
            }
        );
        assert_eq!(api.respond(&invocation, br#"{"ok":true}"#).unwrap(), 202);

        let seen = server.join().unwrap();
        assert_eq!(seen[0].line, "GET /2018-06-01/runtime/invocation/next");
        assert_eq!(seen[0].header("host"), Some(host.as_str()));
        assert_eq!(
            seen[1].line,
            "POST /2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response"
        );
        assert_eq!(seen[1].header("content-type"), Some("application/json"));
        assert_eq!(
            seen[1].header("lambda-runtime-invocation-id"),
            Some("inv-1")
        );
        assert_eq!(seen[1].body, br#"{"ok":true}"#);
        // One connection for both.
        assert_eq!(seen[1].connection, 0);
    }

    #[test]
    fn an_http_url_with_a_path_prefixes_the_paths() {
        let (host, server) =
            runtime_api(vec![Answer::invocation("id-1", "{}"), Answer::accepted()]);
        let mut api = RuntimeApi::new(&format!("http://{host}/.rt/authorizer/")).unwrap();
        let invocation = api.next_invocation().unwrap();
        api.respond(&invocation, b"{}").unwrap();
        let seen = server.join().unwrap();
        assert_eq!(
            seen[0].line,
            "GET /.rt/authorizer/2018-06-01/runtime/invocation/next"
        );
        assert_eq!(seen[0].header("host"), Some(host.as_str()));
        assert_eq!(
            seen[1].line,
            "POST /.rt/authorizer/2018-06-01/runtime/invocation/id-1/response"
        );

        for address in [
            "https://127.0.0.1:9001",
            "http:///x",
            "",
            "127.0.0.1:9001/a b",
        ] {
            let error = RuntimeApi::new(address).unwrap_err();
            assert!(
                matches!(error, RuntimeApiError::Address(_)),
                "{address}: {error:?}"
            );
        }
        assert!(RuntimeApi::new("HTTP://127.0.0.1:9001").is_ok());
    }

    #[test]
    fn an_error_is_reported_with_its_type() {
        let (host, server) =
            runtime_api(vec![Answer::invocation("id-1", "{}"), Answer::accepted()]);
        let mut api = RuntimeApi::new(&host).unwrap();
        let invocation = api.next_invocation().unwrap();
        assert_eq!(invocation.invocation_id, None);
        let status = api
            .fail(&invocation, "EventDecodeError", "not the \"event\"\r\ntype")
            .unwrap();
        assert_eq!(status, 202);

        let seen = server.join().unwrap();
        assert_eq!(
            seen[1].line,
            "POST /2018-06-01/runtime/invocation/id-1/error"
        );
        assert_eq!(
            seen[1].header("lambda-runtime-function-error-type"),
            Some("EventDecodeError")
        );
        assert_eq!(seen[1].header("lambda-runtime-invocation-id"), None);
        let body: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"errorType": "EventDecodeError",
                "errorMessage": "not the \"event\"\r\ntype"})
        );
    }

    #[test]
    fn a_chunked_event_in_pieces_is_read_whole() {
        let event = format!(r#"{{"big":"{}"}}"#, "x".repeat(3 * READ_CHUNK));
        let (first, rest) = event.split_at(10);
        let mut pieces = vec![
            b"HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: id-1\r\n".to_vec(),
            b"transfer-encoding: chunked\r\n\r\n".to_vec(),
        ];
        pieces.push(format!("{:x};ext=1\r\n{first}\r\n", first.len()).into_bytes());
        pieces.push(format!("{:X}\r\n{}", rest.len(), &rest[..5]).into_bytes());
        pieces.push(format!("{}\r\n", &rest[5..]).into_bytes());
        pieces.push(b"0\r\nsome-trailer: x\r\n\r\n".to_vec());
        let (host, server) = runtime_api(vec![
            Answer::in_pieces(pieces),
            Answer::invocation("id-2", "{}"),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        assert_eq!(api.next_invocation().unwrap().event, event.as_bytes());
        // The connection is read exactly to the chunked body's end: the next answer follows.
        let next = api.next_invocation().unwrap();
        assert_eq!(
            (next.request_id.as_str(), next.event.as_slice()),
            ("id-2", &b"{}"[..])
        );
        assert_eq!(server.join().unwrap().len(), 2);
    }

    #[test]
    fn a_large_event_in_pieces_is_read_whole() {
        let event = format!(r#"{{"big":"{}"}}"#, "y".repeat(MAX_KEPT_BYTES * 2));
        let Answer { pieces, .. } = Answer::invocation("id-1", &event);
        let whole = pieces.concat();
        let pieces = whole.chunks(100_000).map(<[u8]>::to_vec).collect();
        let (host, server) = runtime_api(vec![
            Answer::in_pieces(pieces),
            Answer::invocation("id-2", "{}"),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        assert_eq!(api.next_invocation().unwrap().event, event.as_bytes());
        // What was read is given back once the event is out.
        assert_eq!(api.input.kept(), READ_CHUNK);
        assert_eq!(api.next_invocation().unwrap().request_id, "id-2");
        server.join().unwrap();
    }

    #[test]
    fn a_closed_connection_is_opened_again_for_the_next_request() {
        let Answer { pieces, .. } = Answer::invocation("id-1", "{}");
        let close = String::from_utf8(pieces.concat()).unwrap().replacen(
            "\r\n",
            "\r\nconnection: close\r\n",
            1,
        );
        let (host, server) = runtime_api(vec![
            Answer {
                pieces: vec![close.into_bytes()],
                close: true,
            },
            Answer::accepted(),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        let invocation = api.next_invocation().unwrap();
        assert_eq!(api.respond(&invocation, b"{}").unwrap(), 202);
        let seen = server.join().unwrap();
        assert_eq!((seen[0].connection, seen[1].connection), (0, 1));
    }

    #[test]
    fn a_connection_that_ends_unanswered_is_an_error_not_a_retry() {
        let (host, server) = runtime_api(vec![
            Answer::invocation("id-1", "{}"),
            Answer {
                pieces: vec![],
                close: true,
            },
            Answer::accepted(),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        let invocation = api.next_invocation().unwrap();
        let error = api.respond(&invocation, b"{}").unwrap_err();
        assert!(
            matches!(&error, RuntimeApiError::Io { source, .. }
                if source.kind() == io::ErrorKind::UnexpectedEof),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("could not talk to the Lambda Runtime API at {host}")
        );
        // The answer was not sent again on a new connection (the fake waits two seconds for
        // one, with an answer left to give).
        drop(api);
        assert_eq!(server.join().unwrap().len(), 2);
    }

    #[test]
    fn a_refusal_or_a_broken_answer_is_an_error() {
        let (host, server) = runtime_api(vec![Answer::raw(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\n{}",
        )]);
        let error = RuntimeApi::new(&host)
            .unwrap()
            .next_invocation()
            .unwrap_err();
        assert!(
            matches!(error, RuntimeApiError::Status { status: 500, .. }),
            "{error:?}"
        );
        server.join().unwrap();

        for (answer, why) in [
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
                "no lambda-runtime-aws-request-id",
            ),
            (
                "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: a/b\r\ncontent-length: 2\r\n\r\n{}",
                "not a path segment",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
                "not a number",
            ),
            ("SMTP ready\r\n\r\n", "not HTTP/1.1"),
            (
                "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: ..\r\ncontent-length: 2\r\n\r\n{}",
                "not a path segment",
            ),
            (
                "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: a?b=1\r\ncontent-length: 2\r\n\r\n{}",
                "not a path segment",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\n{}",
                "not a number",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
                "two content-lengths",
            ),
            // Lengths that would overflow, or claim more than any event: refused before reading.
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551615\r\n\r\n{}",
                "too large",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n{}",
                "too large",
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nFFFFFFFFFFFFFFF0\r\n",
                "too large",
            ),
        ] {
            let (host, server) = runtime_api(vec![Answer::raw(answer)]);
            let error = RuntimeApi::new(&host)
                .unwrap()
                .next_invocation()
                .unwrap_err();
            assert!(error.to_string().contains(why), "{answer:?}: {error}");
            server.join().unwrap();
        }
    }

    #[test]
    fn a_5xx_to_an_answer_is_an_error_a_4xx_is_the_callers_to_log() {
        let (host, server) = runtime_api(vec![
            Answer::invocation("id-1", "{}"),
            Answer::raw("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n"),
            Answer::invocation("id-2", "{}"),
            Answer::raw("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        let invocation = api.next_invocation().unwrap();
        assert_eq!(api.respond(&invocation, b"{}").unwrap(), 413);
        let invocation = api.next_invocation().unwrap();
        let error = api.fail(&invocation, "Panic", "x").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the Lambda Runtime API answered 500 to an invocation's error report"
        );
        server.join().unwrap();
    }

    #[test]
    fn an_interim_answer_is_skipped_and_bytes_after_the_body_end_the_connection() {
        let Answer { pieces, .. } = Answer::invocation("id-1", "{}");
        let mut first = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        first.extend(pieces.concat());
        // Bytes after the body: not read as the next answer; the next request goes out on a
        // new connection.
        first.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        let (host, server) = runtime_api(vec![
            Answer {
                pieces: vec![first],
                close: true,
            },
            Answer::accepted(),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        let invocation = api.next_invocation().unwrap();
        assert_eq!(
            (invocation.request_id.as_str(), invocation.event.as_slice()),
            ("id-1", &b"{}"[..])
        );
        assert_eq!(api.respond(&invocation, b"{}").unwrap(), 202);
        let seen = server.join().unwrap();
        assert_eq!((seen[0].connection, seen[1].connection), (0, 1));
    }

    #[test]
    fn http_1_0_closes_unless_told_to_keep_alive() {
        let (host, server) = runtime_api(vec![
            Answer {
                pieces: vec![
                    b"HTTP/1.0 200 OK\r\nconnection: x-other\r\n\
                      lambda-runtime-aws-request-id: id-1\r\ncontent-length: 2\r\n\r\n{}"
                        .to_vec(),
                ],
                close: true,
            },
            Answer::raw(
                "HTTP/1.0 202 Accepted\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n",
            ),
            Answer::invocation("id-2", "{}"),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        let invocation = api.next_invocation().unwrap();
        assert_eq!(api.respond(&invocation, b"{}").unwrap(), 202);
        assert_eq!(api.next_invocation().unwrap().request_id, "id-2");
        let seen = server.join().unwrap();
        let connections: Vec<_> = seen.iter().map(|s| s.connection).collect();
        assert_eq!(connections, [0, 1, 1]);
    }

    #[test]
    fn an_invocation_shows_its_events_size_not_the_event() {
        let invocation = Invocation {
            request_id: "id-1".into(),
            event: br#"{"headers":{"authorization":"Bearer secret-token"}}"#.to_vec(),
            ..Invocation::default()
        };
        let shown = format!("{invocation:?}");
        assert!(
            shown.contains("id-1") && shown.contains("event_bytes: 51"),
            "{shown}"
        );
        assert!(!shown.contains("secret-token"), "{shown}");
    }

    #[test]
    fn no_runtime_api_is_a_sentence_that_says_what_to_do() {
        assert!(
            RuntimeApiError::NotSet
                .to_string()
                .starts_with("AWS_LAMBDA_RUNTIME_API is not set")
        );
        let error = RuntimeApi::new("127.0.0.1:1")
            .unwrap()
            .next_invocation()
            .unwrap_err();
        assert!(matches!(error, RuntimeApiError::Io { .. }), "{error:?}");
    }
}
