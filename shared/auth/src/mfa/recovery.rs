//! Recovery codes: ten one-time codes handed out when two-factor sign-in is turned on, for when
//! the authenticator is lost. Each is 80 random bits written as four groups of four base32
//! letters (`abcd-efgh-ijkl-mnop`); only their SHA-256 hashes are stored (at 80 bits a fast hash
//! is enough: there is nothing to guess from). Typed back, a code is read without dashes,
//! spaces or case.

use aws_lc_rs::digest;
use data_encoding::BASE32_NOPAD;

/// How many codes are handed out.
pub const COUNT: usize = 10;
/// Random bytes per code (80 bits: 16 base32 letters).
const CODE_BYTES: usize = 10;

/// Ten new codes, as shown to the user once, and their hashes, as stored.
pub fn generate() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..COUNT)
        .map(|_| {
            let mut bytes = [0u8; CODE_BYTES];
            aws_lc_rs::rand::fill(&mut bytes).expect("the system random source");
            let letters = BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
            letters
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).expect("base32 is ASCII"))
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    let hashes = codes.iter().filter_map(|c| hash(c)).collect();
    (codes, hashes)
}

/// The stored hash of a code as typed; `None` for what cannot be a code (so it is never looked
/// up).
pub fn hash(typed: &str) -> Option<String> {
    let normal: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = normal.len() == 16 && BASE32_NOPAD.decode(normal.as_bytes()).is_ok();
    valid.then(|| {
        let d = digest::digest(&digest::SHA256, normal.as_bytes());
        d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_whose_hashes_are_stored_and_typing_is_forgiving() {
        let (codes, hashes) = generate();
        assert_eq!(codes.len(), COUNT);
        assert_eq!(hashes.len(), COUNT);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        for (code, stored) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(hash(code).as_ref(), Some(stored));
            assert_eq!(hash(&code.to_uppercase()).as_ref(), Some(stored));
            assert_eq!(hash(&code.replace('-', " ")).as_ref(), Some(stored));
            assert_eq!(hash(&code.replace('-', "")).as_ref(), Some(stored));
            assert!(!stored.contains(code.as_str()));
        }
        assert_eq!(hash("123456"), None);
        assert_eq!(hash(""), None);
        assert_eq!(hash("abcd-efgh-ijkl-mno1"), None, "1 is not base32");
    }
}
