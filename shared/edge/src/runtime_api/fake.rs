//! A scripted Runtime API on 127.0.0.1 for tests: it answers the requests it gets, in order,
//! with the answers it was given, and records each request.

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

    /// An answer written in `pieces`, apart.
    pub fn in_pieces(pieces: Vec<Vec<u8>>) -> Self {
        Self {
            pieces,
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
