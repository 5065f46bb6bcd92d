//! Key material: the HS256 secret ([`HmacKey`]) and the two halves of an Ed25519 key pair, each
//! with the `kid` derived from it, and a key as the verifier checks signatures with it.

use aws_lc_rs::{hmac, signature};

use crate::domain::hex;

/// An HMAC key with its id.
#[derive(Clone)]
pub struct HmacKey {
    pub(crate) kid: String,
    pub(crate) secret: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl HmacKey {
    /// Shortest accepted secret, in bytes (HS256 wants at least its output size).
    pub const MIN_LEN: usize = 32;

    /// A key from a secret of at least [`HmacKey::MIN_LEN`] bytes. Its `kid` is derived from the
    /// secret (`hs256-` and 12 hex digits of its SHA-256), so every function that holds the same
    /// secret agrees on it and the id reveals nothing usable about the secret.
    pub fn new(secret: Vec<u8>) -> Result<Self, String> {
        if secret.len() < Self::MIN_LEN {
            return Err(format!(
                "must be at least {} bytes long (got {})",
                Self::MIN_LEN,
                secret.len()
            ));
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &secret);
        let kid = format!("hs256-{}", hex(&digest.as_ref()[..6]));
        Ok(Self {
            kid,
            secret: zeroize::Zeroizing::new(secret),
        })
    }

    /// The key id written into the `kid` header.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// An Ed25519 private key (login's), with the `kid` of its public key.
#[derive(Clone)]
pub struct Ed25519PrivateKey {
    pub(super) kid: String,
    pub(super) pkcs8: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Ed25519PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519PrivateKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// `ed25519-` and 12 hex digits of the SHA-256 of the raw public key.
fn ed25519_kid(raw_public: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, raw_public);
    format!("ed25519-{}", hex(&digest.as_ref()[..6]))
}

impl Ed25519PrivateKey {
    /// A key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey -algorithm
    /// ed25519` writes it).
    pub fn from_pem(pem_text: &str) -> Result<Self, String> {
        let block = pem::parse(pem_text.trim()).map_err(|e| format!("not a PEM key: {e}"))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(format!(
                "expected a PRIVATE KEY PEM block, got {}",
                block.tag()
            ));
        }
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(block.contents())
            .map_err(|_| "not an Ed25519 PKCS#8 private key".to_owned())?;
        use aws_lc_rs::signature::KeyPair as _;
        Ok(Self {
            kid: ed25519_kid(pair.public_key().as_ref()),
            pkcs8: zeroize::Zeroizing::new(block.contents().to_vec()),
        })
    }

    /// The key id written into the `kid` header (that of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// An Ed25519 public key (the authorizer's), with its `kid`.
#[derive(Clone)]
pub struct Ed25519PublicKey {
    pub(super) kid: String,
    pub(super) raw: Vec<u8>,
}

impl std::fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519PublicKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl Ed25519PublicKey {
    /// The raw 32-byte public key (a JWK's `x`, RFC 8037).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Every `PUBLIC KEY` PEM block in `pem_text` (SubjectPublicKeyInfo, as `openssl pkey
    /// -pubout` writes it); at least one.
    pub fn all_from_pem(pem_text: &str) -> Result<Vec<Self>, String> {
        let blocks = pem::parse_many(pem_text).map_err(|e| format!("not PEM: {e}"))?;
        if blocks.is_empty() {
            return Err("no PEM block".into());
        }
        blocks
            .iter()
            .map(|block| {
                // SPKI for Ed25519: a fixed 12-byte prefix, then the 32-byte key.
                const PREFIX: [u8; 12] = [
                    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
                ];
                let der = block.contents();
                if block.tag() != "PUBLIC KEY" || der.len() != 44 || der[..12] != PREFIX {
                    return Err("expected Ed25519 PUBLIC KEY PEM blocks".to_owned());
                }
                let raw = der[12..].to_vec();
                Ok(Self {
                    kid: ed25519_kid(&raw),
                    raw,
                })
            })
            .collect()
    }

    /// The key id tokens signed by the matching private key carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// A key a signature is checked with, in `aws_lc_rs`'s own form (built once, in the verifier's
/// constructor).
#[derive(Clone)]
pub(super) enum VerifyingKey {
    Hmac(Box<hmac::Key>),
    Ed25519(signature::UnparsedPublicKey<Vec<u8>>),
}

impl VerifyingKey {
    /// Whether `signature` is that of `signing_input` under this key (HMAC: compared in constant
    /// time).
    pub(super) fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hmac(key) => hmac::verify(key, signing_input, signature).is_ok(),
            Self::Ed25519(key) => key.verify(signing_input, signature).is_ok(),
        }
    }
}
