//! What a reader takes home from the companion, named as the app asks for it and the companion
//! serves it: the two Postman exports of step 1 (`/api/postman/{kind}`) and the languages one
//! exchange of the transcript is copied as (`/api/transcript/{id}/as/{language}`).

/// One of step 1's Postman exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostmanExport {
    /// The collection: the OAuth 2.0 settings and a request per catalog entry.
    Collection,
    /// The environment: the variables the collection reads (the secret left to fill in).
    Environment,
}

impl PostmanExport {
    /// Both exports.
    pub const ALL: [Self; 2] = [Self::Collection, Self::Environment];

    /// Its name in the path and in the file's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Collection => "collection",
            Self::Environment => "environment",
        }
    }

    /// The export a path segment names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A language a snippet comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnippetLanguage {
    /// A shell command.
    Curl,
    /// An ES module for Node 18+ (`fetch` is global there).
    Fetch,
    /// A Rust program with `reqwest` and `tokio`.
    Reqwest,
}

impl SnippetLanguage {
    /// Every language, in the order the page offers them.
    pub const ALL: [Self; 3] = [Self::Curl, Self::Fetch, Self::Reqwest];

    /// Its name in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Curl => "curl",
            Self::Fetch => "fetch",
            Self::Reqwest => "reqwest",
        }
    }

    /// What the page's button says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Curl => "curl",
            Self::Fetch => "fetch",
            Self::Reqwest => "Rust (reqwest)",
        }
    }

    /// The language a path segment names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|language| language.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_parses_back_and_no_other_does() {
        for kind in PostmanExport::ALL {
            assert_eq!(PostmanExport::parse(kind.as_str()), Some(kind));
        }
        for language in SnippetLanguage::ALL {
            assert_eq!(SnippetLanguage::parse(language.as_str()), Some(language));
        }
        assert_eq!(PostmanExport::parse("Collection"), None);
        assert_eq!(SnippetLanguage::parse("python"), None);
    }
}
