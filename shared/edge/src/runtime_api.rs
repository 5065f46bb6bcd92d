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
//! one blocking kept-alive socket: one write and one read per request, no task, no pool, no
//! timer. bench/NOTES.md has the numbers before and after. The HTTP functions keep
//! `lambda_runtime` with `lambda_http`'s API Gateway conversion.
//!
//! What it reads of HTTP/1.1: a status line and headers (parsed by `httparse`, as hyper does),
//! then a body by `content-length`, `chunked` or the connection's end. A connection the peer
//! says it closes (`connection: close`) is opened again for the next request. A connection that
//! ends without answering is an error, as it is for `lambda_runtime`: the Runtime API does not
//! drop its runtime's connection, and a process that has been replaced (a harness's wrapper
//! killed without it) must end rather than take the next invocation on a new connection.
//! There are no timeouts: asking for the next invocation waits until there is one, as
//! Lambda intends, and the Runtime API answers the rest at once.

use std::io::{self, Read as _, Write as _};
use std::net::TcpStream;

/// The Runtime API's paths, after the address's own path if it has one.
const API_PATH: &str = "/2018-06-01/runtime";

/// The most headers an answer may have.
const MAX_HEADERS: usize = 32;

/// The most bytes an answer's status line and headers may take.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most memory kept for reading between answers (a large event's is given back).
const MAX_KEPT_BYTES: usize = 256 * 1024;

/// What a read asks of the socket at least.
const READ_CHUNK: usize = 8 * 1024;

/// One invocation, as the Runtime API hands it over.
#[derive(Debug, Default, Clone, PartialEq)]
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
    /// The Runtime API refused to give the next invocation.
    #[error("the Lambda Runtime API answered {status} when asked for the next invocation")]
    Status {
        /// The answer's status code.
        status: u16,
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

/// The bytes read of an answer: `data[..filled]`, in memory kept (and zeroed once) between
/// answers.
#[derive(Debug)]
struct Input {
    data: Vec<u8>,
    filled: usize,
}

impl Input {
    fn read(&self) -> &[u8] {
        &self.data[..self.filled]
    }

    /// Reads what the socket has (at least one byte, or 0 at its end) after what was read.
    fn read_more(&mut self, stream: &mut TcpStream) -> io::Result<usize> {
        if self.filled == self.data.len() {
            self.data.resize(self.data.len() * 2, 0);
        }
        loop {
            match stream.read(&mut self.data[self.filled..]) {
                Ok(read) => {
                    self.filled += read;
                    return Ok(read);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads more, an early end being an error.
    fn read_more_or_fail(&mut self, stream: &mut TcpStream) -> Result<(), Failure> {
        match self.read_more(stream) {
            Ok(0) => Err(Failure::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(_) => Ok(()),
            Err(e) => Err(Failure::Io(e)),
        }
    }
}

/// What this client needs of an answer's head.
#[derive(Debug, Default)]
struct Head {
    status: u16,
    /// `content-length`, `chunked`, or neither (the body ends with the connection).
    framing: Framing,
    close: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Framing {
    Length(usize),
    Chunked,
    #[default]
    UntilClose,
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
        if host.is_empty() || path.bytes().any(|b| !b.is_ascii_graphic() || b == b'?') {
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
            input: Input {
                data: vec![0; READ_CHUNK],
                filled: 0,
            },
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

    /// Answers `invocation` with `response` (JSON). Returns the Runtime API's status: one
    /// other than 2xx (the invocation timed out, the answer is too large) is the caller's to log;
    /// the function goes on with the next invocation.
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
    ) -> Result<(Head, Vec<u8>), RuntimeApiError> {
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
        invocation: Option<&mut Invocation>,
    ) -> Result<(Head, Vec<u8>), Failure> {
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
        input.filled = 0;
        let (head, head_len) = read_head(stream, input, invocation)?;
        let body = read_body(stream, input, head_len, head.framing)?;
        if head.close || head.framing == Framing::UntilClose {
            self.stream = None;
        }
        if input.data.len() > MAX_KEPT_BYTES {
            input.data = vec![0; READ_CHUNK];
        }
        Ok((head, body))
    }
}

/// How an exchange failed.
enum Failure {
    /// The socket failed, or ended before the answer did.
    Io(io::Error),
    /// The answer is not what this client reads.
    Malformed(&'static str),
}

/// Reads into `input` until the head is complete; parses it (and, for `next`, the
/// invocation's headers into `invocation`). Returns the head and its length in bytes.
fn read_head(
    stream: &mut TcpStream,
    input: &mut Input,
    invocation: Option<&mut Invocation>,
) -> Result<(Head, usize), Failure> {
    loop {
        input.read_more_or_fail(stream)?;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(input.read()) {
            Ok(httparse::Status::Complete(head_len)) => {
                let head = parse_head(&response, invocation)?;
                return Ok((head, head_len));
            }
            Ok(httparse::Status::Partial) if input.filled < MAX_HEAD_BYTES => {}
            Ok(httparse::Status::Partial) => {
                return Err(Failure::Malformed("the answer's headers are too long"));
            }
            Err(_) => return Err(Failure::Malformed("the answer is not HTTP/1.1")),
        }
    }
}

/// The head's status, framing and (for `next`) the invocation's headers.
fn parse_head(
    response: &httparse::Response<'_, '_>,
    mut invocation: Option<&mut Invocation>,
) -> Result<Head, Failure> {
    let mut head = Head {
        status: response.code.unwrap_or_default(),
        close: response.version == Some(0),
        ..Head::default()
    };
    for header in response.headers.iter() {
        let name = header.name;
        let text = || {
            std::str::from_utf8(header.value)
                .map(str::trim)
                .map_err(|_| Failure::Malformed("a header is not UTF-8"))
        };
        if name.eq_ignore_ascii_case("content-length") {
            let length = text()?
                .parse()
                .map_err(|_| Failure::Malformed("content-length is not a number"))?;
            if head.framing != Framing::Chunked {
                head.framing = Framing::Length(length);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if text()?.to_ascii_lowercase().ends_with("chunked") {
                head.framing = Framing::Chunked;
            }
        } else if name.eq_ignore_ascii_case("connection") {
            let value = text()?.to_ascii_lowercase();
            head.close = value.split(',').any(|v| v.trim() == "close");
            if value.split(',').any(|v| v.trim() == "keep-alive") {
                head.close = false;
            }
        } else if let Some(invocation) = invocation.as_deref_mut() {
            if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                let id = text()?;
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
                    return Err(Failure::Malformed(
                        "lambda-runtime-aws-request-id is not a path segment",
                    ));
                }
                invocation.request_id = id.to_owned();
            } else if name.eq_ignore_ascii_case("lambda-runtime-deadline-ms") {
                invocation.deadline_ms = text()?.parse().ok();
            } else if name.eq_ignore_ascii_case("lambda-runtime-trace-id") {
                invocation.xray_trace_id = Some(text()?.to_owned());
            } else if name.eq_ignore_ascii_case("lambda-runtime-aws-tenant-id") {
                invocation.tenant_id = Some(text()?.to_owned());
            } else if name.eq_ignore_ascii_case("lambda-runtime-invocation-id") {
                invocation.invocation_id = Some(header_safe(text()?));
            }
        }
    }
    // A status without a body.
    if head.status == 204 || head.status == 304 || (100..200).contains(&head.status) {
        head.framing = Framing::Length(0);
    }
    Ok(head)
}

/// The body after the head's `head_len` bytes in `input`, read to its end.
fn read_body(
    stream: &mut TcpStream,
    input: &mut Input,
    head_len: usize,
    framing: Framing,
) -> Result<Vec<u8>, Failure> {
    match framing {
        Framing::Length(length) => {
            while input.filled < head_len + length {
                input.read_more_or_fail(stream)?;
            }
            Ok(input.read()[head_len..head_len + length].to_vec())
        }
        Framing::UntilClose => {
            while input.read_more(stream).map_err(Failure::Io)? > 0 {}
            Ok(input.read()[head_len..].to_vec())
        }
        Framing::Chunked => {
            let mut body = Vec::new();
            let mut at = head_len;
            loop {
                // The chunk's size line.
                let (size, line_len) = loop {
                    match httparse::parse_chunk_size(&input.read()[at..]) {
                        Ok(httparse::Status::Complete((line_len, size))) => break (size, line_len),
                        Ok(httparse::Status::Partial) => input.read_more_or_fail(stream)?,
                        Err(_) => return Err(Failure::Malformed("a chunk's size is not hex")),
                    }
                };
                at += line_len;
                let size = usize::try_from(size)
                    .map_err(|_| Failure::Malformed("a chunk is too large"))?;
                if size == 0 {
                    // Trailers, if any, end with an empty line.
                    loop {
                        match find(&input.read()[at..], b"\r\n") {
                            Some(0) => return Ok(body),
                            Some(end) => at += end + 2,
                            None => input.read_more_or_fail(stream)?,
                        }
                    }
                }
                let end = at
                    .checked_add(size)
                    .and_then(|end| end.checked_add(2))
                    .ok_or(Failure::Malformed("a chunk is too large"))?;
                while input.filled < end {
                    input.read_more_or_fail(stream)?;
                }
                body.extend_from_slice(&input.read()[at..end - 2]);
                if &input.read()[end - 2..end] != b"\r\n" {
                    return Err(Failure::Malformed("a chunk does not end with CRLF"));
                }
                at = end;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

/// A scripted Runtime API on 127.0.0.1 for tests: it answers the requests it gets, in order,
/// with the answers it was given, and records each request.
#[cfg(test)]
pub(crate) mod fake {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// One request as the fake received it.
    #[derive(Debug, Clone)]
    pub struct Seen {
        /// `METHOD PATH`.
        pub line: String,
        /// Its headers, names in lower case.
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
        /// Which connection it came on, counting from 0.
        pub connection: usize,
    }

    impl Seen {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// One answer: the raw bytes to write, in pieces written apart (to make the client read
    /// more than once), and whether to close the connection afterwards.
    pub struct Answer {
        pub pieces: Vec<Vec<u8>>,
        pub close: bool,
    }

    impl Answer {
        /// A whole answer in one write.
        pub fn raw(text: impl Into<Vec<u8>>) -> Self {
            Self {
                pieces: vec![text.into()],
                close: false,
            }
        }

        /// An invocation with `request_id` and `event`, with `content-length`.
        pub fn invocation(request_id: &str, event: &str) -> Self {
            Self::raw(format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: {request_id}\r\n\
                 lambda-runtime-deadline-ms: 1796338813520\r\n\
                 content-length: {}\r\n\r\n{event}",
                event.len()
            ))
        }

        /// `202 Accepted`, as the Runtime API takes an answer.
        pub fn accepted() -> Self {
            Self::raw("HTTP/1.1 202 Accepted\r\ncontent-length: 15\r\n\r\n{\"status\":\"OK\"}")
        }
    }

    /// The fake's address (`host:port`), and its thread, which returns the requests it saw
    /// once it has given every answer, or no connection has come for two seconds.
    pub fn runtime_api(answers: Vec<Answer>) -> (String, JoinHandle<Vec<Seen>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut answers = answers.into_iter().peekable();
            let mut connection = 0;
            'connections: while answers.peek().is_some() {
                let Some(stream) = accept(&listener) else {
                    break;
                };
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while let Some(request) = read(&mut reader, connection) {
                    seen.push(request);
                    let Some(answer) = answers.next() else {
                        break 'connections;
                    };
                    for piece in &answer.pieces {
                        writer.write_all(piece).unwrap();
                        writer.flush().unwrap();
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    if answer.close {
                        break;
                    }
                    if answers.peek().is_none() {
                        break 'connections;
                    }
                }
                connection += 1;
            }
            seen
        });
        (host, thread)
    }

    /// The next connection, if one comes within two seconds.
    fn accept(listener: &TcpListener) -> Option<TcpStream> {
        listener.set_nonblocking(true).unwrap();
        for _ in 0..200 {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    return Some(stream);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
        None
    }

    fn read(reader: &mut BufReader<TcpStream>, connection: usize) -> Option<Seen> {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut parts = line.split_whitespace();
        let line = format!("{} {}", parts.next()?, parts.next()?);
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some(Seen {
            line,
            headers,
            body,
            connection,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{Answer, runtime_api};
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
            Answer {
                pieces,
                close: false,
            },
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
            Answer {
                pieces,
                close: false,
            },
            Answer::invocation("id-2", "{}"),
        ]);
        let mut api = RuntimeApi::new(&host).unwrap();
        assert_eq!(api.next_invocation().unwrap().event, event.as_bytes());
        // What was read is given back once the event is out.
        assert_eq!(api.input.data.len(), READ_CHUNK);
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
            matches!(error, RuntimeApiError::Status { status: 500 }),
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
