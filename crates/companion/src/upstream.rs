//! What every call to an upstream server (the authorisation server, Pleo's API) shares: its
//! answer's body is read up to a limit, so that a server answering without end costs a bounded
//! amount of memory.

use bytes::Bytes;

/// The body of `response`, read chunk by chunk up to `limit` bytes; `None` as soon as it is
/// larger (the rest is never read).
pub async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Option<Bytes>, reqwest::Error> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Ok(None);
    }
    // Most answers come in one chunk: it is returned as it is, without a copy.
    let Some(first) = response.chunk().await? else {
        return Ok(Some(Bytes::new()));
    };
    if first.len() > limit {
        return Ok(None);
    }
    let Some(second) = response.chunk().await? else {
        return Ok(Some(first));
    };
    let mut body = Vec::with_capacity(first.len() + second.len());
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await?;
    }
    Ok(Some(Bytes::from(body)))
}
