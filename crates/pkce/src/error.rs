//! Errors of the PKCE core, each with a stable code.

/// Why a verifier, a state or a random draw was refused. [`PkceError::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// Fewer than 43 characters (RFC 7636 §4.1).
    #[error("a code verifier needs at least 43 characters; this one has {0}")]
    VerifierTooShort(usize),
    /// More than 128 characters (RFC 7636 §4.1).
    #[error("a code verifier may have at most 128 characters; this one has {0}")]
    VerifierTooLong(usize),
    /// A character outside `[A-Za-z0-9-._~]` (RFC 7636 §4.1), with its character index.
    #[error("a code verifier may only contain A-Z a-z 0-9 - . _ ~; found {character:?} at position {position}")]
    VerifierInvalidCharacter {
        /// The character found.
        character: char,
        /// Its index among the verifier's characters.
        position: usize,
    },
    /// A requested verifier length outside 43..=128.
    #[error("a code verifier length must be between 43 and 128; {0} was asked for")]
    LengthOutOfRange(usize),
    /// Caller-supplied random input of the wrong size.
    #[error("{0} random bytes were given; between 32 and 96 are needed")]
    RandomBytesOutOfRange(usize),
    /// The state value is empty.
    #[error("the state value is empty")]
    StateEmpty,
    /// The state value has a character outside printable ASCII (RFC 6749 Appendix A.5).
    #[error("the state value may only contain printable ASCII characters")]
    StateInvalidCharacter,
    /// The state value is longer than this library accepts.
    #[error("the state value is longer than {max} characters")]
    StateTooLong {
        /// The most characters a state may have.
        max: usize,
    },
    /// The platform's CSPRNG failed (in a browser: no `crypto.getRandomValues`).
    #[error("the system random number generator is unavailable")]
    RandomUnavailable,
}

impl PkceError {
    /// The stable, machine-readable code of this error (snake_case, never changes).
    pub fn code(&self) -> &'static str {
        match self {
            Self::VerifierTooShort(_) => "verifier_too_short",
            Self::VerifierTooLong(_) => "verifier_too_long",
            Self::VerifierInvalidCharacter { .. } => "verifier_invalid_character",
            Self::LengthOutOfRange(_) => "verifier_length_out_of_range",
            Self::RandomBytesOutOfRange(_) => "random_bytes_out_of_range",
            Self::StateEmpty => "state_empty",
            Self::StateInvalidCharacter => "state_invalid_character",
            Self::StateTooLong { .. } => "state_too_long",
            Self::RandomUnavailable => "random_unavailable",
        }
    }

    /// A sentence for a person without the details, for size-sensitive callers (the JS
    /// package) that must not pull in string formatting.
    pub fn summary(&self) -> &'static str {
        match self {
            Self::VerifierTooShort(_) => "a code verifier needs at least 43 characters",
            Self::VerifierTooLong(_) => "a code verifier may have at most 128 characters",
            Self::VerifierInvalidCharacter { .. } => "a code verifier may only contain A-Z a-z 0-9 - . _ ~",
            Self::LengthOutOfRange(_) => "a code verifier length must be between 43 and 128",
            Self::RandomBytesOutOfRange(_) => "between 32 and 96 random bytes are needed",
            Self::StateEmpty => "the state value is empty",
            Self::StateInvalidCharacter => "the state value may only contain printable ASCII characters",
            Self::StateTooLong { .. } => "the state value is too long",
            Self::RandomUnavailable => "the system random number generator is unavailable",
        }
    }
}
