//! Property-based fuzzing of how the client reads the Runtime API's answers ([`super::http1`],
//! with the invocation's headers taken as [`super::RuntimeApi::next_invocation`] takes them):
//! whatever the peer sends, in whatever pieces, reading never panics and ends, and an invocation
//! it accepts has a request id that is a plain path segment (it goes into the answer's path).
//! Read from memory, not a socket: thousands of loopback connections would fill the machine's
//! ephemeral ports with `TIME_WAIT`. `PROPTEST_CASES` sets the number of cases (256 by default;
//! `bash scripts/fuzz` runs many more).

use std::io::{self, Read};

use proptest::prelude::*;

use super::Invocation;
use super::http1::{Input, read_answer};

/// A peer's bytes, handed out one piece per read, then the end of the connection.
struct Pieces(std::vec::IntoIter<Vec<u8>>, Vec<u8>);

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.1.is_empty() {
            match self.0.next() {
                Some(piece) => self.1 = piece,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.1.len());
        buf[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

/// Reads one answer to `GET next` from `pieces`: the invocation, or why it was refused.
fn next_from(pieces: Vec<Vec<u8>>) -> Result<Invocation, &'static str> {
    let mut invocation = Invocation::default();
    let read = read_answer(
        &mut Pieces(pieces.into_iter(), Vec::new()),
        &mut Input::new(),
        |name, value| invocation.take_header(name, value),
    );
    match read {
        Ok(_) if invocation.request_id.is_empty() => Err("no request id"),
        Ok((_, body)) => Ok(Invocation {
            event: body,
            ..invocation
        }),
        Err(super::Failure::Io(_)) => Err("the connection ended"),
        Err(super::Failure::Malformed(why)) => Err(why),
    }
}

/// A header line of the kinds the client reads, with values from plausible to hostile.
fn header() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        (0usize..64).prop_map(|n| n.to_string()),
        Just("18446744073709551615".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("8388608".to_owned()),
        Just("+5".to_owned()),
        Just("-1".to_owned()),
        Just(String::new()),
    ];
    prop_oneof![
        number.prop_map(|n| format!("content-length: {n}")),
        prop_oneof![
            Just("chunked"),
            Just("gzip, chunked"),
            Just("chunked, gzip"),
            Just("xchunked"),
        ]
        .prop_map(|v| format!("transfer-encoding: {v}")),
        prop_oneof![Just("close"), Just("keep-alive"), Just("x, close")]
            .prop_map(|v| format!("connection: {v}")),
        prop_oneof![
            Just("8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_owned()),
            Just("..".to_owned()),
            Just("a/b".to_owned()),
            Just("a?b".to_owned()),
            "[ -~]{0,12}",
        ]
        .prop_map(|v| format!("lambda-runtime-aws-request-id: {v}")),
        "[a-z-]{1,12}: [ -~]{0,16}",
    ]
}

/// An answer: a status line, headers, a body that may be chunked (well or badly), perhaps cut
/// short (the peer closes mid-answer).
fn answer() -> impl Strategy<Value = Vec<u8>> {
    let status = prop_oneof![
        Just("HTTP/1.1 200 OK"),
        Just("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"),
        Just("HTTP/1.0 200 OK"),
        Just("HTTP/1.1 500 Internal Server Error"),
        Just("HTTP/1.1 204 No Content"),
    ];
    let chunk = prop_oneof![
        "[ -~]{0,20}".prop_map(|data| format!("{:x}\r\n{data}\r\n", data.len())),
        "[0-9a-fA-F]{1,20}(;[a-z=]{0,8})?\r\n[ -~]{0,8}\r\n",
    ];
    let body = prop_oneof![
        "[ -~]{0,40}",
        (
            prop::collection::vec(chunk, 0..4),
            "(0\r\n([a-z]{1,5}: x\r\n){0,2}\r\n)?"
        )
            .prop_map(|(chunks, end)| chunks.concat() + &end),
    ];
    (
        status,
        prop::collection::vec(header(), 0..6),
        body,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(status, headers, body, cut)| {
            let lines: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
            let whole = format!("{status}\r\n{lines}\r\n{body}").into_bytes();
            let keep = if cut.index(4) == 0 {
                cut.index(whole.len() + 1)
            } else {
                whole.len()
            };
            whole[..keep].to_vec()
        })
}

/// `bytes` in pieces cut at `cuts`.
fn in_pieces(bytes: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut pieces = Vec::new();
    let mut from = 0;
    for to in at.into_iter().chain([bytes.len()]) {
        pieces.push(bytes[from..to].to_vec());
        from = to;
    }
    pieces
}

// proptest's default configuration reads `PROPTEST_CASES` itself.
proptest! {
    /// Structured answers in any pieces: read or refused, never a panic; an accepted
    /// invocation's id is a plain path segment.
    #[test]
    fn answers_are_read_or_refused_never_a_panic(
        answer in answer(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        if let Ok(invocation) = next_from(in_pieces(&answer, &cuts)) {
            let id = invocation.request_id.as_str();
            prop_assert!(id != "." && id != "..", "{id:?}");
            prop_assert!(
                id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "{id:?}"
            );
        }
    }

    /// Arbitrary bytes: refused (or, by chance, read), never a panic.
    #[test]
    fn arbitrary_bytes_are_refused_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let _ = next_from(in_pieces(&bytes, &cuts));
    }
}

/// The fuzz test's reader and answers are what they say: a well-formed answer in many pieces
/// is read whole, and a cut one is refused.
#[test]
fn the_pieces_reader_hands_out_every_byte() {
    let answer = b"HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: id-1\r\n\
                   transfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    let pieces = answer.chunks(3).map(<[u8]>::to_vec).collect();
    let invocation = next_from(pieces).unwrap();
    assert_eq!(
        (invocation.request_id.as_str(), invocation.event.as_slice()),
        ("id-1", &b"{}"[..])
    );
    assert_eq!(
        next_from(vec![answer[..answer.len() - 2].to_vec()]).unwrap_err(),
        "the connection ended"
    );
}
