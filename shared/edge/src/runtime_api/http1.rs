//! Reading one HTTP/1.1 answer off a kept-alive socket, for [`super::RuntimeApi`]: the status
//! line and headers parsed by `httparse` (as hyper does), then the body by `content-length`,
//! `chunked` (trailers read and dropped) or the connection's end. The bytes are read into an
//! [`Input`] whose memory is kept between answers.

use std::io::{self, Read as _};
use std::net::TcpStream;

/// The most headers an answer may have.
const MAX_HEADERS: usize = 32;

/// The most bytes an answer's status line and headers may take.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most memory kept for reading between answers (a large event's is given back).
pub(super) const MAX_KEPT_BYTES: usize = 256 * 1024;

/// What a read asks of the socket at least.
pub(super) const READ_CHUNK: usize = 8 * 1024;

/// How reading an answer failed.
pub(super) enum Failure {
    /// The socket failed, or ended before the answer did.
    Io(io::Error),
    /// The answer is not what this client reads.
    Malformed(&'static str),
}

/// What the client needs of an answer's head.
#[derive(Debug, Default)]
pub(super) struct Head {
    pub status: u16,
    /// Whether the connection ends after this answer (`connection: close`, HTTP/1.0, or a
    /// body that runs to the connection's end).
    pub close: bool,
}

/// How the body's end is known.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Framing {
    Length(usize),
    Chunked,
    #[default]
    UntilClose,
}

/// The bytes read of an answer: `data[..filled]`, in memory kept (and zeroed once) between
/// answers.
#[derive(Debug)]
pub(super) struct Input {
    data: Vec<u8>,
    filled: usize,
}

impl Input {
    pub fn new() -> Self {
        Self {
            data: vec![0; READ_CHUNK],
            filled: 0,
        }
    }

    fn read(&self) -> &[u8] {
        &self.data[..self.filled]
    }

    /// The memory kept for reading, in bytes.
    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.data.len()
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

/// Reads one answer from `stream` into `input`: its head, with each header other than those
/// that frame the body (`content-length`, `transfer-encoding`, `connection`) handed to
/// `header` (name, value), and its body.
pub(super) fn read_answer(
    stream: &mut TcpStream,
    input: &mut Input,
    header: impl FnMut(&str, &[u8]) -> Result<(), Failure>,
) -> Result<(Head, Vec<u8>), Failure> {
    input.filled = 0;
    let (mut head, framing, head_len) = read_head(stream, input, header)?;
    let body = read_body(stream, input, head_len, framing)?;
    head.close |= framing == Framing::UntilClose;
    if input.data.len() > MAX_KEPT_BYTES {
        *input = Input::new();
    }
    Ok((head, body))
}

/// Reads into `input` until the head is complete, and parses it. Returns the head, its framing
/// and its length in bytes.
fn read_head(
    stream: &mut TcpStream,
    input: &mut Input,
    header: impl FnMut(&str, &[u8]) -> Result<(), Failure>,
) -> Result<(Head, Framing, usize), Failure> {
    loop {
        input.read_more_or_fail(stream)?;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(input.read()) {
            Ok(httparse::Status::Complete(head_len)) => {
                let (head, framing) = parse_head(&response, header)?;
                return Ok((head, framing, head_len));
            }
            Ok(httparse::Status::Partial) if input.filled < MAX_HEAD_BYTES => {}
            Ok(httparse::Status::Partial) => {
                return Err(Failure::Malformed("the answer's headers are too long"));
            }
            Err(_) => return Err(Failure::Malformed("the answer is not HTTP/1.1")),
        }
    }
}

/// The head's status and framing; the other headers go to `other`.
fn parse_head(
    response: &httparse::Response<'_, '_>,
    mut other: impl FnMut(&str, &[u8]) -> Result<(), Failure>,
) -> Result<(Head, Framing), Failure> {
    let mut head = Head {
        status: response.code.unwrap_or_default(),
        close: response.version == Some(0),
    };
    let mut framing = Framing::default();
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
            if framing != Framing::Chunked {
                framing = Framing::Length(length);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if text()?.to_ascii_lowercase().ends_with("chunked") {
                framing = Framing::Chunked;
            }
        } else if name.eq_ignore_ascii_case("connection") {
            let value = text()?.to_ascii_lowercase();
            head.close = value.split(',').any(|v| v.trim() == "close");
            if value.split(',').any(|v| v.trim() == "keep-alive") {
                head.close = false;
            }
        } else {
            other(name, header.value)?;
        }
    }
    // A status without a body.
    if head.status == 204 || head.status == 304 || (100..200).contains(&head.status) {
        framing = Framing::Length(0);
    }
    Ok((head, framing))
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
