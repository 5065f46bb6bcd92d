//! Reading one HTTP/1.1 answer off a kept-alive socket, for [`super::RuntimeApi`]: the status
//! line and headers parsed by `httparse` (as hyper does), then the body by `content-length`,
//! `chunked` (trailers read and dropped) or the connection's end. The bytes are read into an
//! [`Input`] whose memory is kept between answers. It reads from any `Read`, so the fuzz
//! test (`super::fuzz`) feeds it from memory.
//!
//! The peer is Lambda's, on the same machine, but what it sends is still bounded and checked:
//! an answer (head and body) is at most [`MAX_ANSWER_BYTES`]; a `content-length` that is not
//! one plain number, or two that differ, is refused (RFC 9112 §6.3); an interim `1xx` head is
//! skipped; and bytes after the body (which a peer answering one request at a time never
//! sends) end the connection instead of being read as the next answer.

use std::io::{self, Read};

/// The most headers an answer may have.
const MAX_HEADERS: usize = 32;

/// The most bytes an answer's status line and headers may take.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most bytes an answer may take, head and body: Lambda's largest event (6 MB for a
/// synchronous invocation) with room to spare.
pub(super) const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

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

    /// Reads what the socket has (at least one byte, or 0 at its end) after what was read; an
    /// answer growing past [`MAX_ANSWER_BYTES`] is refused.
    fn read_more(&mut self, stream: &mut impl Read) -> Result<usize, Failure> {
        if self.filled >= MAX_ANSWER_BYTES {
            return Err(Failure::Malformed("the answer is too large"));
        }
        if self.filled == self.data.len() {
            self.data
                .resize((self.data.len() * 2).min(MAX_ANSWER_BYTES), 0);
        }
        loop {
            match stream.read(&mut self.data[self.filled..]) {
                Ok(read) => {
                    self.filled += read;
                    return Ok(read);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::Io(e)),
            }
        }
    }

    /// Reads more, an early end being an error.
    fn read_more_or_fail(&mut self, stream: &mut impl Read) -> Result<(), Failure> {
        match self.read_more(stream)? {
            0 => Err(Failure::Io(io::ErrorKind::UnexpectedEof.into())),
            _ => Ok(()),
        }
    }

    /// Forgets the first `len` bytes read, keeping what follows them.
    fn consume(&mut self, len: usize) {
        self.data.copy_within(len..self.filled, 0);
        self.filled -= len;
    }
}

/// Reads one answer from `stream` into `input`: its head, with each header other than those
/// that frame the body (`content-length`, `transfer-encoding`, `connection`) handed to
/// `header` (name, value), and its body.
pub(super) fn read_answer(
    stream: &mut impl Read,
    input: &mut Input,
    mut header: impl FnMut(&str, &[u8]) -> Result<(), Failure>,
) -> Result<(Head, Vec<u8>), Failure> {
    input.filled = 0;
    let (mut head, framing, head_len) = loop {
        let (head, framing, head_len) = read_head(stream, input, &mut header)?;
        // An interim answer (`100 Continue`, `103 Early Hints`): the final one follows.
        if (100..200).contains(&head.status) && head.status != 101 {
            input.consume(head_len);
            continue;
        }
        break (head, framing, head_len);
    };
    let (body, end) = read_body(stream, input, head_len, framing)?;
    head.close |= framing == Framing::UntilClose || end < input.filled;
    if input.data.len() > MAX_KEPT_BYTES {
        *input = Input::new();
    }
    Ok((head, body))
}

/// Reads into `input` until the head is complete, and parses it. Returns the head, its framing
/// and its length in bytes.
fn read_head(
    stream: &mut impl Read,
    input: &mut Input,
    header: impl FnMut(&str, &[u8]) -> Result<(), Failure>,
) -> Result<(Head, Framing, usize), Failure> {
    // Bytes already read (after an interim answer) are parsed before reading more.
    let mut read = input.filled > 0;
    loop {
        if !read {
            input.read_more_or_fail(stream)?;
        }
        read = false;
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
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Failure::Malformed("the answer has too many headers"));
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
        close: false,
    };
    let mut framing = Framing::default();
    let mut length = None;
    let (mut close, mut keep_alive, mut transfer_encoded) = (false, false, false);
    for header in response.headers.iter() {
        let name = header.name;
        let text = || {
            std::str::from_utf8(header.value)
                .map(str::trim)
                .map_err(|_| Failure::Malformed("a header is not UTF-8"))
        };
        if name.eq_ignore_ascii_case("content-length") {
            let value = text()?;
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Failure::Malformed("content-length is not a number"));
            }
            let value = value
                .parse::<usize>()
                .map_err(|_| Failure::Malformed("the answer is too large"))?;
            if length.is_some_and(|length| length != value) {
                return Err(Failure::Malformed("the answer has two content-lengths"));
            }
            length = Some(value);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // The body is chunked if chunked is the last coding; with any other last coding
            // it runs to the connection's end.
            transfer_encoded = true;
            let last = text()?.rsplit(',').next().unwrap_or("").trim();
            framing = if last.eq_ignore_ascii_case("chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            };
        } else if name.eq_ignore_ascii_case("connection") {
            for option in text()?.split(',').map(str::trim) {
                close |= option.eq_ignore_ascii_case("close");
                keep_alive |= option.eq_ignore_ascii_case("keep-alive");
            }
        } else {
            other(name, header.value)?;
        }
    }
    if let (Some(length), false) = (length, transfer_encoded) {
        if length > MAX_ANSWER_BYTES {
            return Err(Failure::Malformed("the answer is too large"));
        }
        framing = Framing::Length(length);
    }
    // HTTP/1.1 keeps the connection unless told to close it; HTTP/1.0 closes it unless told
    // to keep it.
    head.close = close || (response.version == Some(0) && !keep_alive);
    // A status without a body.
    if head.status == 204 || head.status == 304 || (100..200).contains(&head.status) {
        framing = Framing::Length(0);
    }
    Ok((head, framing))
}

/// The body after the head's `head_len` bytes in `input`, read to its end, and where in
/// `input` the answer ends.
fn read_body(
    stream: &mut impl Read,
    input: &mut Input,
    head_len: usize,
    framing: Framing,
) -> Result<(Vec<u8>, usize), Failure> {
    match framing {
        Framing::Length(length) => {
            let end = head_len
                .checked_add(length)
                .filter(|&end| end <= MAX_ANSWER_BYTES)
                .ok_or(Failure::Malformed("the answer is too large"))?;
            while input.filled < end {
                input.read_more_or_fail(stream)?;
            }
            Ok((input.read()[head_len..end].to_vec(), end))
        }
        Framing::UntilClose => {
            while input.read_more(stream)? > 0 {}
            Ok((input.read()[head_len..].to_vec(), input.filled))
        }
        Framing::Chunked => {
            let mut body = Vec::new();
            let mut at = head_len;
            loop {
                // The chunk's size line (with any extensions, at most MAX_HEAD_BYTES).
                let (size, line_len) = loop {
                    match httparse::parse_chunk_size(&input.read()[at..]) {
                        Ok(httparse::Status::Complete((line_len, size))) => break (size, line_len),
                        Ok(httparse::Status::Partial) if input.filled - at < MAX_HEAD_BYTES => {
                            input.read_more_or_fail(stream)?;
                        }
                        Ok(httparse::Status::Partial) => {
                            return Err(Failure::Malformed("a chunk's size line is too long"));
                        }
                        Err(_) => return Err(Failure::Malformed("a chunk's size is not hex")),
                    }
                };
                at += line_len;
                let size = usize::try_from(size)
                    .map_err(|_| Failure::Malformed("the answer is too large"))?;
                if size == 0 {
                    return read_trailers(stream, input, at).map(|end| (body, end));
                }
                let end = at
                    .checked_add(size)
                    .and_then(|end| end.checked_add(2))
                    .filter(|&end| end <= MAX_ANSWER_BYTES)
                    .ok_or(Failure::Malformed("the answer is too large"))?;
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

/// Reads the trailers after a chunked body's last chunk, from `at` in `input`, to the empty line
/// that ends them (at most MAX_HEAD_BYTES of them); returns where the answer ends.
fn read_trailers(
    stream: &mut impl Read,
    input: &mut Input,
    mut at: usize,
) -> Result<usize, Failure> {
    let start = at;
    // Where the search for the next line's end goes on from: what was searched is not again.
    let mut from = at;
    loop {
        match find(&input.read()[from..], b"\r\n") {
            Some(found) if from + found == at => return Ok(at + 2),
            Some(found) => {
                at = from + found + 2;
                from = at;
            }
            None if input.filled - start < MAX_HEAD_BYTES => {
                from = input.filled.saturating_sub(1).max(at);
                input.read_more_or_fail(stream)?;
            }
            None => return Err(Failure::Malformed("the answer's trailers are too long")),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
