//! Reading a unit enum by its wire name (the error codes, the environments, the transcript
//! steps): one small generic visitor over the enum's `ALL` and `as_str`, in place of serde's
//! derived one, which costs the browser's bundle about 1 KB of wasm per enum (measured in
//! docs/benchmarks.md). Writing stays derived (`rename_all`), and a test per enum holds the two
//! spellings equal.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserializer, Error, Unexpected, Visitor};

/// The one of `all` whose `name` is the string `deserializer` holds.
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Copy + 'static>(
    deserializer: D,
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> Result<T, D::Error> {
    struct ByName<T: 'static> {
        all: &'static [T],
        name: fn(T) -> &'static str,
        _kind: PhantomData<T>,
    }
    impl<T: Copy> Visitor<'_> for ByName<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a known name")
        }
        fn visit_str<E: Error>(self, text: &str) -> Result<T, E> {
            self.all
                .iter()
                .copied()
                .find(|&item| (self.name)(item) == text)
                .ok_or_else(|| E::invalid_value(Unexpected::Str(text), &self))
        }
    }
    deserializer.deserialize_str(ByName {
        all,
        name,
        _kind: PhantomData,
    })
}
