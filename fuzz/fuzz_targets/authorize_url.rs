//! `flow::AuthorizeRequest::url` on any six fields (one per line): never panics, and every URL
//! it builds carries exactly the given values, each once, with PKCE S256.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.splitn(6, '\n');
    let mut next = || fields.next().unwrap_or_default().to_owned();
    let (endpoint, client_id, redirect_uri, scopes, state, challenge) = (next(), next(), next(), next(), next(), next());
    let scopes: Vec<String> = scopes.split(' ').map(str::to_owned).collect();
    let request = flow::AuthorizeRequest {
        endpoint: &endpoint,
        client_id: &client_id,
        redirect_uri: &redirect_uri,
        scopes: &scopes,
        state: &state,
        code_challenge: &challenge,
    };
    let Ok(url) = request.url() else { return };
    assert!(url.starts_with(&endpoint), "the URL starts with the endpoint: {url}");
    let query = url.split_once('?').map(|(_, q)| q).expect("the URL has a query");
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let value = |name: &str| {
        let found: Vec<&str> = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect();
        assert_eq!(found.len(), 1, "{name} appears once in {url}");
        found[0].to_owned()
    };
    assert_eq!(value("response_type"), "code");
    assert_eq!(value("client_id"), client_id);
    assert_eq!(value("redirect_uri"), redirect_uri);
    assert_eq!(value("state"), state);
    assert_eq!(value("code_challenge"), challenge);
    assert_eq!(value("code_challenge_method"), "S256");
    assert!(!url.contains(['\r', '\n', ' ']), "the URL is one clean line: {url:?}");
});
